// The MTP notebook's harnesses: the paired seed-by-seed difference by hand, and draftSpeed's counts (pooled acceptance,
// tokens per forward, the greedy check) on a tiny random model, with no tensor growth.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { speculativeGenerate, TransformerLM } from "../../lib/model";
import { draftSpeed, pairedDifference } from "../../lib/experiments";

beforeAll(async () => {
  await selectBackend();
});

describe("pairedDifference", () => {
  it("mean difference, its standard error, relative size and whether it is beyond 2 s.e., by hand", () => {
    // differences −0.1, −0.2, −0.3: mean −0.2, sample sd 0.1, s.e. 0.1/√3
    const r = pairedDifference([1.9, 1.8, 1.7], [2, 2, 2]);
    expect(r.diff).toBeCloseTo(-0.2, 12);
    expect(r.se).toBeCloseTo(0.1 / Math.sqrt(3), 12);
    expect(r.rel).toBeCloseTo(-0.1, 12);
    expect([r.better, r.worse]).toEqual([true, false]);
    const noisy = pairedDifference([1.5, 2.6, 1.9], [2, 2, 2]); // mean 0, spread 0.55: within noise
    expect([noisy.better, noisy.worse]).toEqual([false, false]);
    const one = pairedDifference([3], [2]); // a single pair is never beyond noise
    expect([one.diff, one.se, one.worse]).toEqual([1, Infinity, false]);
    expect(() => pairedDifference([1, 2], [1])).toThrow("pairedDifference(a, b): expected two equally long non-empty lists, got 2 and 1");
  });
});

describe("draftSpeed", () => {
  it("pools the counts of every prompt and checks the output against greedy decoding", () => {
    seed(4);
    const model = new TransformerLM({ vocabSize: 16, dim: 16, nLayers: 2, nHeads: 2, contextLen: 32, ffnHidden: 24, mtpDepth: 1 });
    const prompts = [[1, 2, 3], [4], [5, 6]];
    const before = tf.memory().numTensors;
    const d = draftSpeed(model, prompts, 10, 1);
    expect(tf.memory().numTensors).toBe(before);
    const runs = prompts.map((p) => speculativeGenerate(model, p, 10));
    const sum = (f: (r: (typeof runs)[number]) => number) => runs.reduce((s, r) => s + f(r), 0);
    expect(d.acceptance).toBe(sum((r) => r.accepted) / sum((r) => r.drafted));
    expect(d.tokensPerForward).toBe(30 / sum((r) => r.forwards));
    expect(d.identical).toBe(true);
    expect(d.greedyTokensPerSecond).toBeGreaterThan(0);
    expect(d.speedup).toBeCloseTo(d.speculativeTokensPerSecond / d.greedyTokensPerSecond, 12);
    expect(() => draftSpeed(model, [], 10, 1)).toThrow("draftSpeed(model, prompts, newTokens, rounds): expected at least one prompt");
    model.dispose();
  });
});
