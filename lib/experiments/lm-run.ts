// One language-model run of a comparison notebook: lab.train.fit wired to the model's loss and aux-free bias update,
// recording the validation loss against steps and training wall-clock and every step's expert loads; plus the
// validation loss and the routing counts of a fixed batch set. Reference: nanoGPT train.py's eval cadence.
import * as tf from "@tensorflow/tfjs";
import { evaluateLoss, fit } from "../train";
import type { BatchSet } from "../train";
import { checkPositiveInt, withDefaults } from "../check";
import { summarize } from "../bench/timing";
import type { ParamCounts } from "../model/config";
import type { TransformerLM } from "../model/transformer";

/** A batch of next-token pairs, int32 [B, T] each (lab.data.Batch; an alias so it fits fit's TensorContainer). */
type Batch = { inputs: tf.Tensor2D; targets: tf.Tensor2D };

/** Settings of one run. */
export interface LMRunConfig {
  /** Optimizer steps. */
  steps: number;
  /** Validation loss every this many steps (and after the last). */
  evalEvery: number;
  /** Peak learning rate of the cosine schedule (linear warmup, then half a cosine to minLr at the last step). */
  lr: number;
  /** Final learning rate. */
  minLr: number;
  /** Warmup steps. */
  warmupSteps: number;
  /** AdamW decoupled weight decay on matrices. */
  weightDecay: number;
  /** Global gradient-norm clip; null = none. */
  clipNorm: number | null;
  /** Seed of the run (step s runs seeded with stepSeed(seed, s)). */
  seed: number;
  /** Show a progress bar labelled with the run's name. */
  progress: boolean;
}

/** 300 steps, cosine from 3e-3 (30 warmup) to 3e-4, decay 0.1, clip 1, val every 50 steps, seed 0, a progress bar. */
export const DEFAULT_LM_RUN: Readonly<LMRunConfig> = Object.freeze({
  steps: 300,
  evalEvery: 50,
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 30,
  weightDecay: 0.1,
  clipNorm: 1,
  seed: 0,
  progress: true,
});

/** What a run measured. */
export interface LMRun {
  name: string;
  counts: ParamCounts;
  /** Training objective (cross-entropy + aux losses) per step. */
  loss: number[];
  /** Training cross-entropy per step (nats/token). */
  ce: number[];
  /** Validation cross-entropy after `step` steps, and the training time spent to get there (ms, no evaluation). */
  evals: { step: number; trainMs: number; valLoss: number }[];
  /** Tokens per expert at every step, [step][MoE layer][expert] (empty rows for a dense model). */
  loads: number[][][];
  /** Training tokens per second (steps only). */
  tokensPerSecond: number;
  /** Time in training steps, ms. */
  trainMs: number;
}

/** Mean validation cross-entropy (nats/token) of `model` over `set`. */
export function valLoss(model: TransformerLM, set: BatchSet<Batch>): number {
  return evaluateLoss((b: Batch) => model.loss(b.inputs, b.targets).ce, set);
}

/** Tokens routed to each expert over every batch of `set`, [MoE layer][expert] (no training, no bias update). */
export function routedLoads(model: TransformerLM, set: BatchSet<Batch>): number[][] {
  const sums = model.moeLayers().map((l) => new Array<number>(l.config.nRouted).fill(0));
  for (let i = 0; i < set.count; i++) {
    tf.tidy(() => {
      const batch = set.batch(i);
      model
        .forward(batch.inputs)
        .loads.forEach((load, layer) => load.dataSync().forEach((v, e) => (sums[layer][e] += v)));
    });
  }
  return sums;
}

/** The experts each token of `set` was routed to, per MoE layer: [tokens·topK] row-major (for node-traffic counts). */
export function routedIndices(model: TransformerLM, set: BatchSet<Batch>): Int32Array[] {
  const parts: Int32Array[][] = model.moeLayers().map(() => []);
  for (let i = 0; i < set.count; i++) {
    tf.tidy(() => {
      const batch = set.batch(i);
      model.forward(batch.inputs).indices.forEach((idx, layer) => parts[layer].push(idx.dataSync() as Int32Array));
    });
  }
  return parts.map((chunks) => {
    const out = new Int32Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
    return out;
  });
}

/** Trains `model` on `batches` (a pure function of the step) with validation on `val`; see LMRun. */
export async function trainLM(
  name: string,
  model: TransformerLM,
  batches: (step: number) => Batch,
  val: BatchSet<Batch>,
  config: Partial<LMRunConfig> = {},
): Promise<LMRun> {
  const cfg = withDefaults("trainLM(config)", DEFAULT_LM_RUN, config);
  checkPositiveInt("trainLM", "config.steps", cfg.steps);
  checkPositiveInt("trainLM", "config.evalEvery", cfg.evalEvery);
  const loads: number[][][] = [];
  const result = await fit({
    module: model,
    loss: (b: Batch) => model.stepLoss(b.inputs, b.targets),
    batches,
    evaluate: () => valLoss(model, val),
    afterStep: (info) => {
      loads.push(model.afterStep(info.aux));
    },
    config: {
      steps: cfg.steps,
      schedule: { kind: "cosine", lr: cfg.lr, minLr: cfg.minLr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps },
      optimizer: { weightDecay: cfg.weightDecay },
      clipNorm: cfg.clipNorm,
      seed: cfg.seed,
      evalEvery: cfg.evalEvery,
      progress: cfg.progress,
      label: name,
    },
    modelConfig: model.config,
  });
  const elapsed: number[] = [];
  result.history.reduce((sum, r) => (elapsed.push(sum + r.ms), sum + r.ms), 0);
  return {
    name,
    counts: model.counts(),
    loss: result.history.map((r) => r.loss),
    ce: result.history.map((r) => r.metrics.ce),
    evals: result.evals.map((e) => ({ step: e.step, trainMs: elapsed[e.step - 1], valLoss: e.values.loss })),
    loads,
    tokensPerSecond: result.tokensPerSecond,
    trainMs: result.trainMs,
  };
}

/** Training throughput of `model` on the current backend: fit for `steps` steps, the median step after the first (warmup). */
export async function trainThroughput(
  model: TransformerLM,
  batches: (step: number) => Batch,
  steps: number,
): Promise<{ tokensPerSecond: number; msPerStep: number }> {
  if (!(Number.isSafeInteger(steps) && steps >= 2))
    throw new Error(`trainThroughput(model, batches, steps): steps must be an integer ≥ 2, got ${steps}`);
  const result = await fit({
    module: model,
    loss: (b: Batch) => model.stepLoss(b.inputs, b.targets),
    batches,
    afterStep: (info) => void model.afterStep(info.aux),
    config: { steps },
  });
  const ms = summarize(result.history.slice(1).map((r) => r.ms)).median;
  return { tokensPerSecond: (result.history[0].tokens * 1000) / ms, msPerStep: ms };
}
