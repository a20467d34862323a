// The articles' three-level reward: each score against hand-computed values (domain terms), an independent
// log-softmax of the judge's logits (perplexity), the noise rate of the simulated annotator, and the weighted mean;
// trainLmRl uses a custom reward for training and still evaluates with the exact-match reward.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ArithmeticTask, threeLevelReward, trainLmRl } from "../../lib/rl";
import { Rng, seed } from "../../lib/random";

import { task, tinyArithmeticModel } from "../helpers/arithmetic";

/** A batch of the given completions (texts ending in "\n" or not) for the given prompts, padded like sampleCompletions. */
function batchOf(prompts: ReturnType<ArithmeticTask["prompts"]>, texts: string[]) {
  const m = task.answerLength;
  const p = task.promptLength;
  const tokens = new Int32Array(prompts.length * (p + m)).fill(task.endId);
  const mask = new Float32Array(prompts.length * m);
  const completions = texts.map((t, i) => {
    const ids = Array.from(task.tokenizer.encode(t));
    tokens.set(prompts[i].ids, i * (p + m));
    tokens.set(ids, i * (p + m) + p);
    for (let j = 0; j < ids.length; j++) mask[i * m + j] = 1;
    return ids;
  });
  return { prompts, completions, tokens, mask };
}

describe("rl.threeLevelReward", () => {
  it("scores domain terms, 1/PPL under the judge and the exact answer; the reward is their mean", () => {
    seed(1);
    const judge = tinyArithmeticModel();
    const prompts = task.prompts(3, new Rng(2));
    const texts = [`${prompts[0].problem.answer}\n`, "1+\n", "=*+\n"];
    const batch = batchOf(prompts, texts);
    const { reward, last } = threeLevelReward(task, judge, new Rng(0), { preferenceNoise: 0 });
    const r = reward(batch);
    const s = last()!;
    expect(s.domainTerms).toEqual([1, 2 / 3, 1 / 4]); // digits, "-" and the end token are the terms
    expect(s.preference).toEqual([1, 0, 0]);
    // 1/PPL from the judge's logits, computed here with an explicit log-softmax.
    const p = task.promptLength;
    const m = task.answerLength;
    const logits = judge.forward(tf.tensor2d(batch.tokens, [3, p + m], "int32")).logits; // [3, P + M, V]
    const lsm = tf.logSoftmax(logits).arraySync() as number[][][];
    texts.forEach((_, i) => {
      const ids = batch.completions[i];
      const mean = ids.reduce((acc, id, j) => acc + lsm[i][p - 1 + j][id], 0) / ids.length;
      expect(s.perplexity[i]).toBeCloseTo(Math.exp(mean), 5);
      expect(r[i]).toBeCloseTo((s.perplexity[i] + s.domainTerms[i] + s.preference[i]) / 3, 6);
    });
    tf.dispose(logits);
    judge.dispose();
  });

  it("the simulated annotator disagrees with the exact-answer check at the configured rate", () => {
    seed(1);
    const judge = tinyArithmeticModel();
    const prompts = task.prompts(400, new Rng(3));
    const batch = batchOf(
      prompts,
      prompts.map((q) => `${q.problem.answer}\n`),
    );
    const { reward, last } = threeLevelReward(task, judge, new Rng(4), { preferenceNoise: 0.25 });
    reward(batch);
    const flipped = last()!.preference.filter((v) => v === 0).length / 400;
    expect(Math.abs(flipped - 0.25)).toBeLessThan(0.06); // ±2.8 binomial standard errors
    expect(() => threeLevelReward(task, judge, new Rng(0), { preferenceNoise: 2 })).toThrow(/preferenceNoise/);
    expect(() => threeLevelReward(task, judge, new Rng(0), { weights: [0, 0, 0] })).toThrow(/weights/);
    judge.dispose();
  });

  it("drives trainLmRl's training reward, and the run leaves no tensors behind", async () => {
    seed(2);
    const policy = tinyArithmeticModel();
    const judge = tinyArithmeticModel();
    const three = threeLevelReward(task, judge, new Rng(5));
    const before = tf.memory().numTensors;
    const run = await trainLmRl(
      policy,
      task,
      { method: "grpo", steps: 2, promptsPerStep: 2, groupSize: 4 },
      { reward: three.reward },
    );
    expect(tf.memory().numTensors).toBe(before);
    const s = three.last()!;
    const composite = s.perplexity.map((v, i) => (v + s.domainTerms[i] + s.preference[i]) / 3);
    expect(run.steps[1].reward).toBeCloseTo(composite.reduce((a, b) => a + b, 0) / composite.length, 6);
    await expect(
      trainLmRl(policy, task, { method: "grpo", steps: 1, promptsPerStep: 1, groupSize: 2 }, { reward: () => [1] }),
    ).rejects.toThrow(/options\.reward must return 2 finite numbers/);
    policy.dispose();
    judge.dispose();
  });
});
