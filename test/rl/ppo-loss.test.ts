// losses.ppo against a hand-worked minibatch (DESIGN.md §3, cleanrl ppo.py): ratios inside and outside the clip range
// with both advantage signs, value clipping binding and not, entropy, approximate KL, clip fraction, the gradient
// through the clip, advantage normalisation, the articles' quotient ratio, named errors, and no tensor growth.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { DEFAULT_PPO_LOSS, normalizeAdvantages, ppo } from "../../lib/rl";

// Six samples: ρ = exp(new − old) and A chosen so each case of max(−Aρ, −A·clip(ρ, 0.8, 1.2)) occurs.
const RATIO = [1.1, 1.5, 0.5, 0.9, 0.5, 1.5];
const ADV = [2, 1, -1, -3, 1, -2];
const OLD = [-0.7, -1.2, -0.3, -2.0, -0.9, -0.5];
// Per-sample surrogate, by hand: inside (−2.2), clipped high with A>0 (−1.2), clipped low with A<0 (0.8),
// inside with A<0 (2.7), outside low with A>0 (unclipped −0.5 is larger), outside high with A<0 (unclipped 3 is larger).
const PG_TERMS = [-2.2, -1.2, 0.8, 2.7, -0.5, 3];
const NEW_V = [1.0, 1.5, 0.5, 1.5, -1, 0];
const OLD_V = [0.9, 1.0, 1.0, 1.0, 0, 0];
const RET = [2, 1, 2, 2, 0, -1];
// Squared value errors by hand: unclipped (V − R)², and max with (V_old + clip(V − V_old, ±0.2) − R)².
const V_UNCLIPPED = [1, 0.25, 2.25, 0.25, 1, 1];
const V_MAX = [1, 0.25, 2.25, 0.64, 1, 1];
const ENTROPY = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1];

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const t = (a: number[]) => tf.tensor1d(a);

function inputs(newLogProb = t(OLD.map((o, i) => o + Math.log(RATIO[i])))) {
  return {
    newLogProb,
    oldLogProb: t(OLD),
    advantages: t(ADV),
    newValues: t(NEW_V),
    oldValues: t(OLD_V),
    returns: t(RET),
    entropy: t(ENTROPY),
  };
}

const value = (x: tf.Tensor) => x.dataSync()[0];

describe("losses.ppo", () => {
  it("matches the hand-worked surrogate, value loss, entropy, KL and clip fraction", () => {
    const out = ppo(inputs(), { normAdv: false });
    const pg = mean(PG_TERMS); // = 2.6 / 6
    const v = 0.5 * mean(V_MAX); // 6.14 / 12
    expect(value(out.pgLoss)).toBeCloseTo(pg, 5);
    expect(value(out.vLoss)).toBeCloseTo(6.14 / 12, 5);
    expect(value(out.entropyLoss)).toBeCloseTo(0.35, 6);
    expect(value(out.loss)).toBeCloseTo(pg - 0.01 * 0.35 + 0.5 * v, 5);
    expect(value(out.clipFrac)).toBeCloseTo(4 / 6, 6);
    expect(value(out.approxKl)).toBeCloseTo(mean(RATIO.map((r) => r - 1 - Math.log(r))), 5);
  });

  it("without clipVloss the value loss is the plain squared error", () => {
    const out = ppo(inputs(), { normAdv: false, clipVloss: false });
    expect(value(out.vLoss)).toBeCloseTo(0.5 * mean(V_UNCLIPPED), 5);
  });

  it("passes gradient only through the unclipped surrogate terms", () => {
    const grad = tf.grad((lp: tf.Tensor) => ppo(inputs(lp), { normAdv: false }).pgLoss)(inputs().newLogProb);
    // d/d logπ of −Aρ/B is −Aρ/B where the unclipped term is the max; 0 where the clipped term is.
    const expected = [-2 * 1.1, 0, 0, 3 * 0.9, -1 * 0.5, 2 * 1.5].map((g) => g / 6);
    const got = Array.from(grad.dataSync());
    expected.forEach((g, i) => expect(got[i]).toBeCloseTo(g, 5));
  });

  it("value clipping stops the gradient where the clipped error is larger", () => {
    const grad = tf.grad((v: tf.Tensor) => ppo({ ...inputs(), newValues: v }, { normAdv: false }).vLoss)(t(NEW_V));
    // 0.5·mean((V − R)²) → (V − R)/B where unclipped wins; 0 at sample 3 (clipped wins, V − V_old outside ±0.2).
    const expected = [-1, 0.5, -1.5, 0, -1, 1].map((g) => g / 6);
    Array.from(grad.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(expected[i], 5));
  });

  it("normalises the minibatch advantages with the unbiased std (torch's .std())", () => {
    const a = normalizeAdvantages(t([1, 2, 3, 4]));
    const std = Math.sqrt(5 / 3);
    Array.from(a.dataSync()).forEach((v, i) => expect(v).toBeCloseTo((i + 1 - 2.5) / (std + 1e-8), 5));
    const withNorm = ppo(inputs());
    const adv = Array.from(normalizeAdvantages(t(ADV)).dataSync());
    const terms = RATIO.map((r, i) => Math.max(-adv[i] * r, -adv[i] * Math.min(1.2, Math.max(0.8, r))));
    expect(value(withNorm.pgLoss)).toBeCloseTo(mean(terms), 5);
  });

  it("the articles' quotient ratio logπ/logπ_old differs from exp(logπ − logπ_old)", () => {
    const out = ppo(inputs(), { normAdv: false, ratio: "quotient" });
    const q = OLD.map((o, i) => (o + Math.log(RATIO[i])) / o);
    const terms = q.map((r, i) => Math.max(-ADV[i] * r, -ADV[i] * Math.min(1.2, Math.max(0.8, r))));
    expect(value(out.pgLoss)).toBeCloseTo(mean(terms), 5);
    expect(Math.abs(value(out.pgLoss) - mean(PG_TERMS))).toBeGreaterThan(0.1);
    // Its gradient has the wrong sign for a negative log-prob: raising logπ lowers the quotient.
    const g = tf.grad((lp: tf.Tensor) => ppo(inputs(lp), { normAdv: false, ratio: "quotient" }).pgLoss)(
      inputs().newLogProb,
    );
    expect(g.dataSync()[0]).toBeGreaterThan(0);
  });

  it("uses cleanrl's defaults", () => {
    expect(DEFAULT_PPO_LOSS).toMatchObject({
      clipCoef: 0.2,
      vfCoef: 0.5,
      entCoef: 0.01,
      clipVloss: true,
      normAdv: true,
    });
  });

  it("names the argument and shape on bad input", () => {
    expect(() => ppo({ ...inputs(), oldLogProb: t([1, 2]) })).toThrow(
      /losses\.ppo: inputs\.oldLogProb must have shape \[B=6\], got \[2\] \(B is 2\)/,
    );
    expect(() => ppo({ ...inputs(), entropy: tf.zeros([6, 1]) })).toThrow(/inputs\.entropy must have shape \[B=6\]/);
    expect(() => ppo({ ...inputs(), returns: undefined as unknown as tf.Tensor })).toThrow(
      /inputs\.returns must be a tf\.Tensor/,
    );
    const one = {
      newLogProb: t([0]),
      oldLogProb: t([0]),
      advantages: t([1]),
      newValues: t([0]),
      oldValues: t([0]),
      returns: t([0]),
      entropy: t([0]),
    };
    expect(() => ppo(one)).toThrow(/normAdv needs B ≥ 2/);
    expect(() => ppo(inputs(), { clipCoef: -0.1 })).toThrow(
      /losses\.ppo: config\.clipCoef must be a finite number in \[0, /,
    );
    expect(() => ppo(inputs(), { ratio: "log" as "quotient" })).toThrow(/config\.ratio must be/);
  });

  it("keeps the tensor count flat", () => {
    const ins = inputs();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(Object.values(ppo(ins)));
    expect(tf.memory().numTensors).toBe(before);
  });
});
