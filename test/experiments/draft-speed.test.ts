// The MTP notebook's harnesses: the paired seed-by-seed difference by hand, and draftSpeed's counts (pooled acceptance,
// tokens per forward, the greedy check) on a tiny random model, with no tensor growth.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { speculativeGenerate, TransformerLM } from "../../lib/model";
import { draftSpeed } from "../../lib/experiments";

beforeAll(async () => {
  await selectBackend();
});

describe("draftSpeed", () => {
  it("pools the counts of every prompt and checks the output against greedy decoding", () => {
    seed(4);
    const model = new TransformerLM({
      vocabSize: 16,
      dim: 16,
      nLayers: 2,
      nHeads: 2,
      contextLen: 32,
      ffnHidden: 24,
      mtpDepth: 1,
    });
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
    expect(() => draftSpeed(model, [], 10, 1)).toThrow(
      "draftSpeed(model, prompts, newTokens, rounds): expected at least one prompt",
    );
    model.dispose();
  });
});
