// The training loop for any Module: per step, seed the global stream from (seed, step), take batches(step), compute
// the loss and gradients in tf.tidy, clip by global norm, apply AdamW at the scheduled learning rate, run afterStep;
// evaluate, log JSONL metrics, checkpoint and show progress as configured. Resuming from a checkpoint continues
// the same loss curve bit for bit, because nothing in a step depends on anything but (weights, optimizer state,
// seed, step). Reference: nanoGPT train.py (the loop: lr schedule, clipping, eval, checkpoints), cleanrl (seeding).
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import { stepSeed } from "../data/batch";
import { NativeAdamWOptimizer } from "../native/optimizer";
import { throwIfCancelled } from "../cancel";
import { progress } from "../progress";
import { currentSeed, seed as seedGlobal } from "../random";
import { checkpointName, restoreCheckpoint, saveCheckpoint } from "./checkpoint";
import { clipByGlobalNorm } from "./clip";
import { LossFn, LossOutput } from "./evaluate";
import { MetricsLog } from "./metrics-log";
import { checkSchedule, learningRate, LrSchedule } from "./schedules";

/** AdamW settings of the loop (the learning rate comes from the schedule). */
export interface FitOptimizerConfig {
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Added to the root of the second moment. */
  epsilon: number;
  /** Decoupled weight decay λ (0 = plain Adam). */
  weightDecay: number;
  /** Decay only parameters of at least this rank (2: weight matrices and embeddings, not biases or norm gains). */
  decayMinRank: number;
}

/** Loop settings. */
export interface FitConfig {
  /** Last step + 1: the run takes steps [start, steps), start = 0 or the resumed checkpoint's step. */
  steps: number;
  /** Learning rate per step. */
  schedule: LrSchedule;
  /** AdamW settings. */
  optimizer: FitOptimizerConfig;
  /** Clip the global gradient norm to this; null = measure it only. */
  clipNorm: number | null;
  /** Seed of the run: step s runs with lab.seed(stepSeed(seed, s)); null = lab.currentSeed() when fit starts. */
  seed: number | null;
  /** Call evaluate every this many steps and after the last one; 0 = after the last one only. */
  evalEvery: number;
  /** Write a metrics line every this many steps (and at the last one). */
  logEvery: number;
  /** JSONL metrics file, emptied at the start of a fresh run and appended to by a resumed one; null = none. */
  metricsPath: string | null;
  /** Folder for checkpoints (one sub-folder per save, "step-000100"); null = none. */
  checkpointDir: string | null;
  /** Checkpoint every this many steps and after the last one; 0 = after the last one only. */
  checkpointEvery: number;
  /** A checkpoint folder to resume from (weights, optimizer state, step, seed); null = a fresh run. */
  resumeFrom: string | null;
  /** Show a progress bar (notebook display or terminal). */
  progress: boolean;
  /** Label of the progress bar. */
  label: string;
  /** Yield to the event loop at least this often, in ms (lets notebook displays update); 0 = every step. */
  yieldMs: number;
}

/** 100 steps of AdamW at a constant 1e-3 (betas 0.9/0.95, decay 0.1 on matrices, nanoGPT's), clip 1.0, no files. */
export const DEFAULT_FIT: Readonly<FitConfig> = Object.freeze({
  steps: 100,
  schedule: Object.freeze({ kind: "constant", lr: 1e-3, warmupSteps: 0 }) as LrSchedule,
  optimizer: Object.freeze({ beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, decayMinRank: 2 }),
  clipNorm: 1.0,
  seed: null,
  evalEvery: 0,
  logEvery: 10,
  metricsPath: null,
  checkpointDir: null,
  checkpointEvery: 0,
  resumeFrom: null,
  progress: false,
  label: "train",
  yieldMs: 200,
});

/** What one step reports (history entry, afterStep argument, metrics line). */
export interface StepRecord {
  /** 0-based step index. */
  step: number;
  /** Training loss of the step's batch (before the update). */
  loss: number;
  /** Learning rate used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens in the step's batch (elements of batch.inputs; 0 when the batch has none). */
  tokens: number;
  /** Wall time of the step, ms (batch, forward, backward, update, afterStep). */
  ms: number;
  /** The loss function's named metrics, as numbers. */
  metrics: Record<string, number>;
}

/** Argument of afterStep: the step's record, the module, and the loss function's aux tensors (freed afterwards). */
export interface AfterStepInfo extends StepRecord {
  module: Module;
  aux: Record<string, tf.Tensor>;
}

/** An evaluation's results at a step. */
export interface EvalRecord {
  /** Steps completed when it ran. */
  step: number;
  /** evaluate()'s values (a single number is named "loss"). */
  values: Record<string, number>;
}

/** What fit needs. B: the batch type (any tensor container, e.g. lab.data.Batch). */
export interface FitOptions<B extends tf.TensorContainer> {
  /** The model: its trainable variables are optimised, its state dict is checkpointed. */
  module: Module;
  /** The loss of a batch: a scalar, or { loss, metrics?, aux? }. Runs inside the step's tf.tidy. */
  loss: LossFn<B>;
  /** The batch of a step (a pure function of the step makes resumed runs exact); fit disposes it. */
  batches: (step: number) => B;
  /** Evaluation (e.g. val loss with lab.train.evaluateLoss); runs every evalEvery steps and at the end. */
  evaluate?: (step: number) => number | Record<string, number> | Promise<number | Record<string, number>>;
  /** Runs after each optimizer step (e.g. an aux-loss-free router-bias update from aux.load). */
  afterStep?: (info: AfterStepInfo) => void | Promise<void>;
  /** Loop settings (merged over DEFAULT_FIT; optimizer merged field by field). */
  config?: Partial<Omit<FitConfig, "optimizer">> & { optimizer?: Partial<FitOptimizerConfig> };
  /** Plain-JSON description saved in every checkpoint's config.json (the model config, say). */
  modelConfig?: unknown;
}

/** The outcome of fit. */
export interface FitResult {
  /** Steps run by this call: [startStep, steps). */
  startStep: number;
  steps: number;
  /** Every step's record. */
  history: StepRecord[];
  /** Every evaluation. */
  evals: EvalRecord[];
  /** Tokens trained on by this call. */
  tokens: number;
  /** Time in training steps only (no evaluation, checkpoints, logging), ms. */
  trainMs: number;
  /** Wall time of the whole call, ms. */
  wallMs: number;
  /** tokens / trainMs, per second. */
  tokensPerSecond: number;
  /** The seed the run used. */
  seed: number;
  /** Last checkpoint folder written, or null. */
  checkpoint: string | null;
}

/** Merges and checks a fit config; errors name the field. */
export function fitConfig(partial: FitOptions<tf.TensorContainer>["config"] = {}): FitConfig {
  const cfg: FitConfig = { ...DEFAULT_FIT, ...partial, optimizer: { ...DEFAULT_FIT.optimizer, ...partial.optimizer } };
  const fn = "fit(options): config";
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min)) throw new Error(`${fn}.${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("steps", cfg.steps, 1);
  int("evalEvery", cfg.evalEvery, 0);
  int("logEvery", cfg.logEvery, 1);
  int("checkpointEvery", cfg.checkpointEvery, 0);
  int("optimizer.decayMinRank", cfg.optimizer.decayMinRank, 0);
  checkSchedule(cfg.schedule);
  const o = cfg.optimizer;
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new Error(`${fn}.optimizer.beta1 must be in [0, 1), got ${o.beta1}`);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw new Error(`${fn}.optimizer.beta2 must be in [0, 1), got ${o.beta2}`);
  if (!(o.epsilon > 0)) throw new Error(`${fn}.optimizer.epsilon must be > 0, got ${o.epsilon}`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw new Error(`${fn}.optimizer.weightDecay must be a finite number ≥ 0, got ${o.weightDecay}`);
  if (cfg.clipNorm !== null && !(cfg.clipNorm > 0)) throw new Error(`${fn}.clipNorm must be > 0 or null, got ${cfg.clipNorm}`);
  if (cfg.seed !== null && !(Number.isSafeInteger(cfg.seed) && cfg.seed >= 0)) throw new Error(`${fn}.seed must be a non-negative integer or null, got ${cfg.seed}`);
  if (!(cfg.yieldMs >= 0)) throw new Error(`${fn}.yieldMs must be ≥ 0, got ${cfg.yieldMs}`);
  return cfg;
}

function numbers(values: number | Record<string, number>): Record<string, number> {
  return typeof values === "number" ? { loss: values } : { ...values };
}

/**
 * Trains `module`. Every step's tensors are freed (tf.tidy); the optimizer's moments are freed at the end. Two runs
 * with one seed give identical loss curves; a run resumed from one of its checkpoints gives the same later losses.
 * Afterwards the global stream is left seeded with stepSeed(seed, steps), however the run was split.
 */
export async function fit<B extends tf.TensorContainer>(options: FitOptions<B>): Promise<FitResult> {
  const cfg = fitConfig(options.config as FitOptions<tf.TensorContainer>["config"]);
  const { module } = options;
  const started = performance.now();
  const o = cfg.optimizer;
  const optimizer = new NativeAdamWOptimizer(learningRate(cfg.schedule, 0), o.beta1, o.beta2, o.epsilon, o.weightDecay);
  try {
    const variables = module.trainableVariables();
    if (variables.length === 0) throw new Error("fit(options): module has no trainable variables");
    optimizer.excludeFromDecay(variables.filter((v) => v.rank < o.decayMinRank).map((v) => v.name));
    let start = 0;
    let seed = cfg.seed ?? currentSeed();
    if (cfg.resumeFrom !== null) {
      const info = restoreCheckpoint(cfg.resumeFrom, module, optimizer);
      start = info.step;
      seed = info.seed;
      if (start > cfg.steps) throw new Error(`fit(options): the checkpoint is at step ${start}, past config.steps = ${cfg.steps}`);
    }
    const log = cfg.metricsPath === null ? null : new MetricsLog(cfg.metricsPath, cfg.resumeFrom !== null);
    const bar = cfg.progress ? progress(cfg.steps - start, { label: cfg.label, unit: "step" }) : null;
    const result: FitResult = { startStep: start, steps: cfg.steps, history: [], evals: [], tokens: 0, trainMs: 0, wallMs: 0, tokensPerSecond: 0, seed, checkpoint: null };
    let lastYield = performance.now();
    const every = (n: number, step: number) => step + 1 === cfg.steps || (n > 0 && (step + 1) % n === 0);
    try {
      for (let step = start; step < cfg.steps; step++) {
        throwIfCancelled(`fit, before step ${step + 1} of ${cfg.steps}`);
        const t0 = performance.now();
        seedGlobal(stepSeed(seed, step));
        const lr = learningRate(cfg.schedule, step);
        optimizer.learningRate = lr;
        const { record, aux } = trainStep(options, optimizer, variables, step, lr, cfg.clipNorm);
        try {
          if (options.afterStep) await options.afterStep({ ...record, module, aux });
        } finally {
          tf.dispose(Object.values(aux));
        }
        record.ms = performance.now() - t0;
        result.trainMs += record.ms;
        result.tokens += record.tokens;
        result.history.push(record);
        if (!Number.isFinite(record.loss)) {
          log?.append({ step, loss: record.loss, lr });
          throw new Error(`fit: the loss is ${record.loss} at step ${step} (lr ${lr}); lower the learning rate or clip gradients`);
        }
        if (log && every(cfg.logEvery, step)) log.append({ step, loss: record.loss, lr, gradNorm: record.gradNorm, tokens: record.tokens, ms: record.ms, ...record.metrics });
        bar?.tick(1, { loss: record.loss, lr });
        if (options.evaluate && every(cfg.evalEvery, step)) {
          const values = numbers(await options.evaluate(step + 1));
          result.evals.push({ step: step + 1, values });
          log?.append({ step: step + 1, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`eval.${k}`, v])) });
        }
        if (cfg.checkpointDir !== null && every(cfg.checkpointEvery, step)) {
          result.checkpoint = path.join(cfg.checkpointDir, checkpointName(step + 1));
          saveCheckpoint(result.checkpoint, { module, optimizer, step: step + 1, seed, config: { fit: cfg, model: options.modelConfig ?? null } });
        }
        if (performance.now() - lastYield >= cfg.yieldMs) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
      }
    } finally {
      bar?.done();
    }
    seedGlobal(stepSeed(seed, cfg.steps)); // what follows the run draws the same numbers however the run was split
    result.wallMs = performance.now() - started;
    result.tokensPerSecond = result.trainMs > 0 ? (result.tokens * 1000) / result.trainMs : 0;
    return result;
  } finally {
    optimizer.dispose();
  }
}

/** One optimizer step in tf.tidy; returns the record (ms filled by the caller) and the loss function's aux tensors. */
function trainStep<B extends tf.TensorContainer>(
  options: FitOptions<B>,
  optimizer: NativeAdamWOptimizer,
  variables: tf.Variable[],
  step: number,
  lr: number,
  clipNorm: number | null,
): { record: StepRecord; aux: Record<string, tf.Tensor> } {
  const batch = options.batches(step);
  const inputs = (batch as { inputs?: unknown }).inputs;
  const tokens = inputs instanceof tf.Tensor ? inputs.size : 0;
  let out: LossOutput | null = null;
  let record: StepRecord | null = null;
  try {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const raw = options.loss(batch, step);
        const o: LossOutput = raw instanceof tf.Tensor ? { loss: raw } : raw;
        for (const t of [...Object.values(o.metrics ?? {}), ...Object.values(o.aux ?? {})]) if (t instanceof tf.Tensor) tf.keep(t);
        out = o;
        return o.loss;
      }, variables);
      const { grads: clipped, norm } = clipByGlobalNorm(grads, clipNorm);
      optimizer.applyGradients(clipped);
      const metrics = Object.fromEntries(Object.entries(out!.metrics ?? {}).map(([k, v]) => [k, v instanceof tf.Tensor ? v.dataSync()[0] : v]));
      record = { step, loss: value.dataSync()[0], lr, gradNorm: norm.dataSync()[0], tokens, ms: 0, metrics };
    });
    return { record: record!, aux: { ...(out as LossOutput | null)?.aux } };
  } catch (e) {
    tf.dispose(Object.values((out as LossOutput | null)?.aux ?? {}));
    throw e;
  } finally {
    tf.dispose(batch);
    tf.dispose(Object.values((out as LossOutput | null)?.metrics ?? {}).filter((t): t is tf.Scalar => t instanceof tf.Tensor));
  }
}
