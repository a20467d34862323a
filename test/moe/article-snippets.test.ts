// The articles' DynamicMoE and dynamic_routing, ported literally: each kept bug's observable behaviour is pinned here,
// against torch's behaviour of the Python original (run with /usr/bin/python3 + torch 1.13: capacity int(1.2·16/64) = 0,
// AttributeError on self.k, zeros for one token, "only integer tensors of a single element" for four).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { articleSnippets } from "../../lib/moe";
import { randomNormal, seed } from "../../lib/random";

const { DynamicMoE, ScoredExpert, dynamicRouting } = articleSnippets;

describe("articleSnippets.DynamicMoE (as the article writes it)", () => {
  it("capacity = int(capacity_factor · d_model / num_experts): a function of the width, not of the tokens", () => {
    seed(0);
    const small = new DynamicMoE(16, 64, 1.2, 8);
    expect(small.capacity).toBe(0); // torch: int(1.2 * (16 / 64)) = 0
    small.dispose();
    const wide = new DynamicMoE(256, 4, 1.2, 8);
    expect(wide.capacity).toBe(76); // int(1.2 * 64) = 76, whatever the batch
    wide.dispose();
  });

  it("self.k is never set: forward fails as Python's AttributeError, and leaks nothing", () => {
    seed(0);
    const moe = new DynamicMoE(16, 8, 1.2, 8);
    const x = randomNormal([1, 16]);
    const before = tf.memory().numTensors;
    expect(() => moe.forward(x)).toThrow("AttributeError: 'DynamicMoE' object has no attribute 'k'");
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    moe.dispose();
  });

  it("with k set, _create_mask's zeros make the output 0 for one token (the only batch that runs)", () => {
    seed(0);
    const moe = new DynamicMoE(16, 8, 1.2, 8);
    moe.k = 2;
    const x = randomNormal([1, 16]);
    const before = tf.memory().numTensors;
    const y = moe.forward(x);
    expect(y.shape).toEqual([1, 16]);
    expect(Array.from(y.dataSync())).toEqual(new Array(16).fill(0));
    // The experts do produce non-zero outputs: the zero comes from the mask alone.
    const e0 = moe.experts[0].apply(x);
    expect(Math.max(...Array.from(e0.dataSync()).map(Math.abs))).toBeGreaterThan(1e-3);
    const idx = tf.tensor2d([[0, 1]], [1, 2], "int32");
    const mask = moe.createMask(idx);
    expect(Array.from(mask.dataSync())).toEqual([0, 0]);
    tf.dispose([y, e0, idx, mask]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    moe.dispose();
  });

  it("with k set, a batch of N > 1 tokens fails where the article indexes a Python list with a tensor", () => {
    seed(0);
    const moe = new DynamicMoE(16, 8, 1.2, 8);
    moe.k = 2;
    const x = randomNormal([4, 16]);
    const before = tf.memory().numTensors;
    expect(() => moe.forward(x)).toThrow("only integer tensors of a single element can be converted to an index");
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    moe.dispose();
  });

  it("rejects bad arguments with clear errors", () => {
    expect(() => new DynamicMoE(0)).toThrow(/dModel/);
    seed(0);
    const moe = new DynamicMoE(8, 4, 1.2, 4);
    expect(() => (moe.k = 5)).toThrow(/k must be ≤ numExperts/);
    moe.k = 1;
    const x = randomNormal([1, 7]);
    expect(() => moe.forward(x as unknown as tf.Tensor2D)).toThrow(/x/);
    tf.dispose(x);
    moe.dispose();
  });
});

describe("articleSnippets.dynamicRouting (as the article writes it)", () => {
  it("averages the two best-scoring experts' outputs with equal weight 1/2", () => {
    seed(3);
    const experts = Array.from({ length: 5 }, () => new ScoredExpert(8, 16));
    const x = randomNormal([8]);
    const scores = experts.map((e) => e.computeScore(x));
    const byScore = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]);
    const [a, b] = [byScore[0][1], byScore[1][1]];
    const before = tf.memory().numTensors;
    const y = dynamicRouting(x, experts);
    const ya = experts[a].forward(x);
    const yb = experts[b].forward(x);
    const expected = Array.from(ya.dataSync()).map((v, i) => (v + yb.dataSync()[i]) / 2);
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    tf.dispose([y, ya, yb]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    experts.forEach((e) => e.dispose());
  });

  it("the scores only rank: scaling every score vector by 3 leaves the output unchanged (no weight, no gradient)", () => {
    seed(4);
    const experts = Array.from({ length: 6 }, () => new ScoredExpert(8, 16));
    const x = randomNormal([8]);
    const y1 = dynamicRouting(x, experts);
    experts.forEach((e) => e.scoreVector.assign(tf.mul(e.scoreVector, 3)));
    const y2 = dynamicRouting(x, experts);
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    // And no gradient path joins the score vectors to the output: tfjs finds no connection.
    const scoreVectors = experts.map((e) => e.scoreVector);
    expect(() => tf.variableGrads(() => tf.sum(dynamicRouting(x, experts)) as tf.Scalar, scoreVectors)).toThrow(
      /Cannot find a connection between any variable and the result/,
    );
    tf.dispose([y1, y2, x]);
    experts.forEach((e) => e.dispose());
  });

  it("with one expert, argsort(...)[-2:] keeps one index and the output is halved", () => {
    seed(5);
    const expert = new ScoredExpert(8, 16);
    const x = randomNormal([8]);
    const y = dynamicRouting(x, [expert]);
    const full = expert.forward(x);
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(full.dataSync()[i] / 2, 6));
    expect(() => dynamicRouting(x, [])).toThrow(/non-empty/);
    tf.dispose([x, y, full]);
    expert.dispose();
  });
});
