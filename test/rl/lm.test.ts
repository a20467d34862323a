// Language-model RL pieces: the arithmetic task (fixed-width prompts, exact-match reward, supervised batches), per-token
// log-probabilities, batched KV-cache sampling against lab.model's generate, and rl.trainLmRl (KL 0 before the
// first update, identical under one seed, no tensor growth, named errors).
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { generate, TransformerLM } from "../../lib/model";
import {
  ArithmeticTask,
  greedyAccuracy,
  sampleCompletions,
  supervisedLoss,
  tokenLogProbs,
  trainLmRl,
} from "../../lib/rl";
import { adam } from "../../lib/train/optimizer";
import { Rng, seed } from "../../lib/random";

import { task, tinyArithmeticModel } from "../helpers/arithmetic";

describe("ArithmeticTask", () => {
  it("makes fixed-width prompts and rewards only the exact answer followed by the end token", () => {
    expect([task.promptLength, task.answerLength]).toEqual([6, 4]); // "07+45=", up to "198" + "\n"
    const prompts = task.prompts(50, new Rng(3));
    for (const p of prompts) {
      expect(p.text).toMatch(/^\d\d[+-]\d\d=$/);
      expect(Number(p.problem.answer)).toBe(
        p.problem.op === "+" ? p.problem.a + p.problem.b : p.problem.a - p.problem.b,
      );
      expect(task.tokenizer.decode(p.ids)).toBe(p.text);
    }
    const p = prompts[0];
    const answer = p.problem.answer;
    expect(task.reward(p, `${answer}\n`)).toBe(1);
    expect(task.reward(p, `${answer}\n7`)).toBe(1);
    expect(task.reward(p, answer)).toBe(0);
    expect(task.reward(p, `${answer}5\n`)).toBe(0);
    expect(task.reward(p, `${Number(answer) + 1}\n`)).toBe(0);
  });

  it("builds supervised rows whose mask covers exactly the answer and its end token", () => {
    const b = task.supervisedBatch(4, new Rng(1));
    const again = task.prompts(4, new Rng(1));
    const ids = b.tokens.arraySync();
    const mask = b.mask.arraySync();
    again.forEach((p, i) => {
      const text = task.tokenizer.decode(ids[i]);
      expect(text.startsWith(`${p.text}${p.problem.answer}\n`)).toBe(true);
      const masked = mask[i].map((m, t) => (m ? text[t + 1] : "")).join("");
      expect(masked).toBe(`${p.problem.answer}\n`);
    });
  });

  it("names bad settings", () => {
    expect(() => new ArithmeticTask({ endChar: "5" })).toThrow(/ArithmeticTask: config\.endChar must be one character/);
    expect(() => new ArithmeticTask({ ops: ["/" as "+"] })).toThrow(/config\.ops must be a non-empty list/);
  });
});

describe("tokenLogProbs and sampleCompletions", () => {
  it("gives log-softmax of the logits that predict each token", () => {
    seed(1);
    const model = tinyArithmeticModel();
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], "int32");
    const { logProbs } = tokenLogProbs(model, tokens, 2);
    const logits = model.forward(tokens).logits.arraySync()[0];
    const expected = [2, 3, 4].map((t) => {
      const row = logits[t - 1]; // predicts token t, whose id is t + 1
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      return row[t + 1] - lse;
    });
    expect(logProbs.shape).toEqual([1, 3]);
    Array.from(logProbs.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(() => tokenLogProbs(model, tokens, 5)).toThrow(/from must be an integer in \[1, 5\)/);
    model.dispose();
  });

  it("greedy batched sampling with a cache equals lab.model's generate row by row, and masks after the end token", () => {
    seed(2);
    const model = tinyArithmeticModel();
    const prompts = task.prompts(6, new Rng(4));
    const out = sampleCompletions(
      model,
      prompts.map((p) => p.ids),
      4,
      task.endId,
      { temperature: 0 },
      new Rng(0),
    );
    prompts.forEach((p, i) => {
      const reference = generate(model, Array.from(p.ids), 4, { temperature: 0, useCache: false });
      const end = reference.indexOf(task.endId);
      const upToEnd = end >= 0 ? reference.slice(0, end + 1) : reference;
      expect(out.completions[i]).toEqual(upToEnd);
      expect(Array.from(out.mask.subarray(i * 4, i * 4 + 4))).toEqual(
        [0, 1, 2, 3].map((t) => (t < upToEnd.length ? 1 : 0)),
      );
    });
    expect(() => sampleCompletions(model, [[1, 2], [1]], 2, 0, {}, new Rng(0))).toThrow(
      /prompts\[1\] has 1 tokens, prompts\[0\] has 2/,
    );
    model.dispose();
  });
});

describe("rl.trainLmRl", () => {
  // A one-digit task a tiny model learns in a few supervised steps, so the RL steps have rewards to work with.
  const easy = new ArithmeticTask({ maxOperand: 3, ops: ["+"] });
  let warm: Map<string, tf.Tensor>;
  beforeAll(() => {
    seed(3);
    const model = tinyArithmeticModel();
    const optimizer = adam({ learningRate: 1e-2 });
    const rng = new Rng(5);
    for (let i = 0; i < 40; i++) {
      const batch = easy.supervisedBatch(32, rng);
      optimizer.minimize(() => supervisedLoss(model, batch));
      tf.dispose(batch);
    }
    optimizer.dispose();
    warm = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
    model.dispose();
  });
  const run = async (method: "grpo" | "ppo") => {
    seed(3);
    const model = tinyArithmeticModel();
    model.loadStateDict(warm);
    const before = tf.memory().numTensors;
    const config = { method, steps: 3, promptsPerStep: 4, groupSize: 4, evalEvery: 3, learningRate: 1e-2 };
    const result = await trainLmRl(model, easy, config, { evalPrompts: easy.prompts(16, new Rng(9)) });
    expect(tf.memory().numTensors).toBe(before);
    const weights = model.trainableVariables().map((v) => Array.from(v.dataSync()));
    model.dispose();
    return { result, weights };
  };

  it("GRPO: KL is 0 before the first update and grows after, runs are identical under one seed, nothing leaks", async () => {
    const a = await run("grpo");
    expect(a.result.steps).toHaveLength(3);
    expect(a.result.evals.map((e) => e.step)).toEqual([0, 3]);
    expect(a.result.evals[0].accuracy).toBeGreaterThan(0.3); // the supervised warm-up worked
    expect(a.result.steps[0].kl).toBe(0);
    expect(a.result.steps[2].kl).toBeGreaterThan(0);
    const b = await run("grpo");
    expect(b.weights).toEqual(a.weights);
    expect(b.result.steps.map((s) => s.reward)).toEqual(a.result.steps.map((s) => s.reward));
  });

  it("PPO with a value head trains too and reports a value loss", async () => {
    const a = await run("ppo");
    expect(a.result.steps[0].vLoss).toBeGreaterThan(0); // the zero-initialised value head meets non-zero returns
    expect(a.result.steps.every((s) => Number.isFinite(s.vLoss) && Number.isFinite(s.pgLoss))).toBe(true);
    expect(a.result.steps.every((s) => Number.isNaN(s.flatGroups))).toBe(true);
  });

  it("supervisedLoss and greedyAccuracy run on a batch", () => {
    seed(4);
    const model = tinyArithmeticModel();
    const loss = supervisedLoss(model, task.supervisedBatch(4, new Rng(2))).dataSync()[0];
    expect(loss).toBeGreaterThan(Math.log(task.tokenizer.vocabSize) / 2);
    const acc = greedyAccuracy(model, task, task.prompts(5, new Rng(1)));
    expect(acc.accuracy).toBeGreaterThanOrEqual(0);
    expect(acc.length).toBeGreaterThan(0);
    model.dispose();
  });

  it("names bad settings", async () => {
    const model = tinyArithmeticModel();
    await expect(trainLmRl(model, task, { method: "a2c" as "ppo" })).rejects.toThrow(
      /rl\.trainLmRl: config\.method must be "grpo" or "ppo"/,
    );
    await expect(trainLmRl(model, task, { groupSize: 1 })).rejects.toThrow(/config\.groupSize must be ≥ 2 for GRPO/);
    const wide = new TransformerLM({ vocabSize: 20, dim: 16, nLayers: 1, nHeads: 2, contextLen: 16, ffnHidden: 32 });
    await expect(trainLmRl(wide, task)).rejects.toThrow(/vocabSize 20 differs from the task's 15/);
    model.dispose();
    wide.dispose();
  });
});
