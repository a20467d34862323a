// GRPO (DESIGN.md §3: DeepSeekMath / TRL): group-normalised advantages with std + 1e-4 (equal rewards give 0, never
// NaN), the k3 KL (≥ 0, 0 at equality, closed form), the clipped per-token surrogate under each aggregation, named
// errors for bad input, and no tensor growth.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { aggregateTokens, grpo, grpoAdvantages, k3Kl } from "../../lib/rl";
import { Rng } from "../../lib/random";

const data = (x: tf.Tensor) => Array.from(x.dataSync());

describe("losses.grpoAdvantages", () => {
  it("normalises each group by its mean and unbiased std + 1e-4", () => {
    const a = data(grpoAdvantages(tf.tensor1d([1, 0, 0, 1, 3, 1, 2, 2]), { groupSize: 4 }));
    // Group 1: mean 0.5, std √(1/3). Group 2: mean 2, std √(2/3).
    const s1 = Math.sqrt(1 / 3) + 1e-4;
    const s2 = Math.sqrt(2 / 3) + 1e-4;
    const expected = [0.5 / s1, -0.5 / s1, -0.5 / s1, 0.5 / s1, 1 / s2, -1 / s2, 0, 0];
    expected.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 4));
  });

  it("gives exactly 0 (no NaN) for a group whose rewards are all equal", () => {
    const a = data(grpoAdvantages(tf.tensor1d([1, 1, 1, 0, 0, 0]), { groupSize: 3 }));
    expect(a).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("only centres when scale is false (Dr. GRPO)", () => {
    expect(data(grpoAdvantages(tf.tensor1d([1, 0, 0, 0]), { groupSize: 4, scale: false }))).toEqual([
      0.75, -0.25, -0.25, -0.25,
    ]);
  });

  it("names the problem on bad input", () => {
    expect(() => grpoAdvantages(tf.tensor1d([]), { groupSize: 4 })).toThrow(/losses\.grpoAdvantages: rewards is empty/);
    expect(() => grpoAdvantages(tf.tensor1d([1, 2, 3]), { groupSize: 2 })).toThrow(
      /3 entries, not a multiple of config\.groupSize = 2/,
    );
    expect(() => grpoAdvantages(tf.tensor1d([1, NaN]), { groupSize: 2 })).toThrow(
      /rewards\[1\] is NaN; expected finite rewards/,
    );
    expect(() => grpoAdvantages(tf.tensor1d([1, Infinity]), { groupSize: 2 })).toThrow(/rewards\[1\] is Infinity/);
    expect(() => grpoAdvantages(tf.tensor1d([1]), { groupSize: 1 })).toThrow(/config\.groupSize must be ≥ 2/);
    expect(() => grpoAdvantages(tf.zeros([2, 2]), { groupSize: 2 })).toThrow(
      /rewards must have shape \[N\], got \[2, 2\] \(rank 2, expected 1\)/,
    );
  });
});

describe("losses.k3Kl", () => {
  it("is 0 at equality, ≥ 0 everywhere, and exp(d) − d − 1 in closed form", () => {
    const r = new Rng(5);
    const lp = Array.from({ length: 200 }, () => -5 * r.uniform());
    const ref = Array.from({ length: 200 }, () => -5 * r.uniform());
    expect(data(k3Kl(tf.tensor1d(lp), tf.tensor1d(lp)))).toEqual(lp.map(() => 0));
    expect(Math.min(...data(k3Kl(tf.tensor1d(lp), tf.tensor1d(ref))))).toBeGreaterThanOrEqual(0);
    expect(k3Kl(tf.tensor1d([0]), tf.tensor1d([Math.log(2)])).dataSync()[0]).toBeCloseTo(1 - Math.log(2), 6);
    expect(() => k3Kl(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(
      /losses\.k3Kl: refLogProb must have logProb's shape \[2,3\]/,
    );
  });
});

describe("losses.grpo", () => {
  // Two completions of padded length 3: the first has 2 tokens, the second 3.
  const old = [
    [-1, -2, -0.5],
    [-0.2, -1.5, -3],
  ];
  const ratio = [
    [1.1, 1.5, 9],
    [0.5, 1, 1.3],
  ];
  const mask = [
    [1, 1, 0],
    [1, 1, 1],
  ];
  const adv = [1, -2];
  const newLp = old.map((row, b) => row.map((o, l) => o + Math.log(ratio[b][l])));
  // Per-token −min(ρA, clip(ρ, 0.8, 1.2)A), by hand (the padded token's value is masked out).
  const pg = [
    [-1.1, -1.2],
    [1.6, 2, 2.6],
  ];
  const inputs = (beta: number) => ({
    newLogProb: tf.tensor2d(newLp),
    oldLogProb: tf.tensor2d(old),
    refLogProb: beta > 0 ? tf.tensor2d(old) : null,
    advantages: tf.tensor1d(adv),
    mask: tf.tensor2d(mask),
  });
  const kl = ratio.map((row) => row.map((r) => 1 / r + Math.log(r) - 1)); // k3 with ref = old: exp(−log ρ) + log ρ − 1

  it("aggregates per sequence, per token and by a constant as TRL's loss types do", () => {
    const sums = pg.map((row) => row.reduce((s, v) => s + v, 0)); // [−2.3, 6.2]
    const seq = (sums[0] / 2 + sums[1] / 3) / 2;
    const tok = (sums[0] + sums[1]) / 5;
    const cst = (sums[0] + sums[1]) / 6;
    expect(grpo(inputs(0), { beta: 0, aggregation: "sequence" }).loss.dataSync()[0]).toBeCloseTo(seq, 5);
    expect(grpo(inputs(0), { beta: 0, aggregation: "token" }).loss.dataSync()[0]).toBeCloseTo(tok, 5);
    expect(grpo(inputs(0), { beta: 0, aggregation: "constant" }).loss.dataSync()[0]).toBeCloseTo(cst, 5);
  });

  it("adds β times the k3 KL to the reference and reports the clip fraction", () => {
    const out = grpo(inputs(0.04), { beta: 0.04 });
    const klSeq = ((kl[0][0] + kl[0][1]) / 2 + (kl[1][0] + kl[1][1] + kl[1][2]) / 3) / 2;
    expect(out.kl.dataSync()[0]).toBeCloseTo(klSeq, 5);
    expect(out.loss.dataSync()[0]).toBeCloseTo(out.pgLoss.dataSync()[0] + 0.04 * klSeq, 5);
    // Clipped tokens among the 5 real ones: 1.5 and 0.5 and 1.3 (the masked 9 does not count).
    expect(out.clipFrac.dataSync()[0]).toBeCloseTo(3 / 5, 6);
  });

  it("clip-higher widens only the upper bound", () => {
    const out = grpo(inputs(0), { beta: 0, clipCoefHigh: 0.6, aggregation: "token" });
    // Token ρ = 1.5 with A = 1 is no longer clipped: −1.5 instead of −1.2; ρ = 1.3 with A = −2 stays 2.6 (unclipped max).
    expect(out.pgLoss.dataSync()[0]).toBeCloseTo((-2.3 - 0.3 + 6.2) / 5, 5);
  });

  it("takes per-token advantages [B, L] too", () => {
    const perToken = grpo(
      {
        ...inputs(0),
        advantages: tf.tensor2d([
          [1, 1, 1],
          [-2, -2, -2],
        ]),
      },
      { beta: 0 },
    );
    expect(perToken.loss.dataSync()[0]).toBeCloseTo(grpo(inputs(0), { beta: 0 }).loss.dataSync()[0], 6);
  });

  it("names the problem on bad input", () => {
    expect(() => grpo({ ...inputs(0), mask: tf.ones([2, 2]) })).toThrow(
      /losses\.grpo: inputs\.mask must have shape \[B=2, L=3\], got \[2, 2\] \(L is 2\)/,
    );
    expect(() => grpo({ ...inputs(0), advantages: tf.ones([3]) })).toThrow(
      /inputs\.advantages must have shape \[B=2\]/,
    );
    expect(() => grpo(inputs(0), { beta: 0.1 })).toThrow(/refLogProb is null but config\.beta = 0\.1/);
    expect(() => grpo(inputs(0), { aggregation: "mean" as "token" })).toThrow(/config\.aggregation must be/);
    const empty = tf.zeros([0, 3]);
    expect(() =>
      grpo(
        { newLogProb: empty, oldLogProb: empty, refLogProb: null, advantages: tf.zeros([0]), mask: empty },
        { beta: 0 },
      ),
    ).toThrow(/empty/);
  });

  it("aggregateTokens counts an all-padding completion as one token (no division by zero)", () => {
    const v = aggregateTokens(
      tf.tensor2d([
        [5, 5],
        [1, 3],
      ]),
      tf.tensor2d([
        [0, 0],
        [1, 1],
      ]),
      "sequence",
    );
    expect(v.dataSync()[0]).toBeCloseTo(1, 6);
  });

  it("keeps the tensor count flat", () => {
    const ins = inputs(0.04);
    const rewards = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(Object.values(grpo(ins)));
    tf.dispose(grpoAdvantages(rewards, { groupSize: 2 }));
    expect(tf.memory().numTensors).toBe(before);
  });
});
