// trainLM / valLoss / routedLoads / trainThroughput: the comparison notebooks' run harness on a tiny model.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { evalBatches, randomBatches } from "../../lib/data";
import { TransformerLM } from "../../lib/model";
import { routedLoads, trainLM, trainThroughput, valLoss } from "../../lib/experiments";

beforeAll(async () => {
  await selectBackend();
});

/** A repeating 5-token pattern with 10% noise: learnable in a few dozen steps. */
function stream(n: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (rng.uniform() < 0.1 ? rng.int(8) : i % 5));
}

const CONFIG = {
  vocabSize: 8,
  dim: 16,
  nLayers: 2,
  nHeads: 2,
  contextLen: 16,
  ffnHidden: 24,
  ffn: "moe" as const,
  nDenseLayers: 1,
  moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 },
};

describe("trainLM", () => {
  it("records the val curve against steps and train time, every step's loads, and learns", async () => {
    seed(0);
    const rng = new Rng(1);
    const model = new TransformerLM(CONFIG);
    const val = evalBatches(stream(800, rng), { batchSize: 4, seqLen: 16, maxBatches: 2 });
    const batches = randomBatches(stream(4000, rng), { batchSize: 4, seqLen: 16, seed: 2 });
    const before = tf.memory().numTensors;
    const run = await trainLM("tiny", model, batches, val, {
      steps: 40,
      evalEvery: 20,
      progress: false,
      warmupSteps: 2,
      lr: 1e-2,
      minLr: 1e-3,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.evals.map((e) => e.step)).toEqual([20, 40]);
    expect(run.evals[1].trainMs).toBeGreaterThan(run.evals[0].trainMs);
    expect(run.evals[1].trainMs).toBeCloseTo(run.trainMs, 6);
    expect(run.evals[1].valLoss).toBeLessThan(0.6 * Math.log(8));
    expect(run.evals[1].valLoss).toBeCloseTo(valLoss(model, val), 5);
    expect(run.loss).toHaveLength(40);
    expect(run.ce[0]).toBeLessThan(run.loss[0]); // the Switch aux loss is part of the objective
    expect(run.loads).toHaveLength(40);
    expect(run.loads[0]).toHaveLength(1); // one MoE layer
    expect(run.loads[0][0].reduce((a, b) => a + b, 0)).toBe(4 * 16 * 2);
    expect(run.counts.total).toBe(model.numParams());
    const loads = routedLoads(model, val);
    expect(loads[0].reduce((a, b) => a + b, 0)).toBe(val.count * 4 * 16 * 2);
    const speed = await trainThroughput(model, batches, 3);
    expect(speed.tokensPerSecond).toBeCloseTo((4 * 16 * 1000) / speed.msPerStep, 6);
    await expect(trainThroughput(model, batches, 1)).rejects.toThrow(/steps must be an integer ≥ 2/);
    model.dispose();
  });
});
