// The training loop for any Module: per step, seed the global stream from (seed, step), take batches(step), compute
// the loss and gradients, clip by global norm, apply AdamW at the scheduled learning rate (lab.train's one step, which
// leaves the weights as they were when the loss or gradient norm is not finite), run afterStep;
// evaluate, log JSONL metrics, checkpoint and show progress as configured. Resuming from a checkpoint continues
// the same loss curve bit for bit, because nothing in a step depends on anything but (weights, optimizer state,
// seed, step). Reference: nanoGPT train.py (the loop: lr schedule, clipping, eval, checkpoints), cleanrl (seeding).
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Module } from "../nn/module";
import { stepSeed } from "../data/batch";
import { throwIfCancelled } from "../cancel";
import { progress } from "../progress";
import { currentSeed, seed as seedGlobal } from "../random";
import { checkpointName, restoreCheckpoint, saveCheckpoint } from "./checkpoint";
import { LossFn } from "./evaluate";
import { MetricsLog } from "./metrics-log";
import { AdamW, AdamWConfig, adamwConfig, DEFAULT_ADAMW } from "./optimizer";
import { checkSchedule, learningRate, LrSchedule } from "./schedules";
import { checkStepConfig, NonFinitePolicy, NonFiniteStepError, optimizerStep } from "./step";
import { yielder } from "./yielder";
import { withDefaults } from "../check";

/** The loop's AdamW settings: the optimizer's one config less the learning rate, which comes from the schedule. */
export type FitOptimizerSettings = Omit<AdamWConfig, "learningRate">;

/** Loop settings. */
export interface FitConfig {
  /** Last step + 1: the run takes steps [start, steps), start = 0 or the resumed checkpoint's step. */
  steps: number;
  /** Learning rate per step. */
  schedule: LrSchedule;
  /** AdamW settings. */
  optimizer: FitOptimizerSettings;
  /** Clip the global gradient norm to this; null = measure it only. */
  clipNorm: number | null;
  /** A step with a NaN or infinite loss or gradient norm is not applied; "stop" then throws, "skip" goes on. */
  onNonFinite: NonFinitePolicy;
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

/**
 * 100 steps of AdamW at a constant 1e-3 (betas 0.9/0.95, eps 1e-8, decay 0.1 on matrices: nanoGPT's), clip 1.0, stop
 * on a non-finite step, no files.
 */
export const DEFAULT_FIT: Readonly<FitConfig> = Object.freeze({
  steps: 100,
  schedule: Object.freeze({ kind: "constant", lr: 1e-3, warmupSteps: 0 }) as LrSchedule,
  optimizer: Object.freeze({ beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, decayMinRank: 2 }),
  clipNorm: 1.0,
  onNonFinite: "stop",
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
  /** True when the update was left out (non-finite loss or gradient norm, onNonFinite "skip"). */
  skipped: boolean;
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
  config?: Partial<Omit<FitConfig, "optimizer">> & { optimizer?: Partial<FitOptimizerSettings> };
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
  /** Steps whose update was skipped (onNonFinite "skip"). */
  skippedSteps: number[];
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
  const fn = "fit(options): config";
  const cfg: FitConfig = {
    ...withDefaults("fit(options)", DEFAULT_FIT, partial),
    optimizer: withDefaults("fit(options)", DEFAULT_FIT.optimizer, partial.optimizer, [], "config.optimizer"),
  };
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isSafeInteger(v) && v >= min)) throw new Error(`${fn}.${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int("steps", cfg.steps, 1);
  int("evalEvery", cfg.evalEvery, 0);
  int("logEvery", cfg.logEvery, 1);
  int("checkpointEvery", cfg.checkpointEvery, 0);
  checkSchedule(cfg.schedule);
  const { learningRate: _, ...optimizer } = adamwConfig(
    { ...cfg.optimizer, learningRate: 0 },
    DEFAULT_ADAMW,
    `${fn}.optimizer`,
  );
  cfg.optimizer = optimizer;
  checkStepConfig(fn, cfg);
  if (cfg.seed !== null && !(Number.isSafeInteger(cfg.seed) && cfg.seed >= 0))
    throw new Error(`${fn}.seed must be a non-negative integer or null, got ${cfg.seed}`);
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
  const optimizer = new AdamW({ ...cfg.optimizer, learningRate: learningRate(cfg.schedule, 0) });
  try {
    const variables = module.trainableVariables();
    if (variables.length === 0) throw new Error("fit(options): module has no trainable variables");
    let start = 0;
    let seed = cfg.seed ?? currentSeed();
    if (cfg.resumeFrom !== null) {
      const info = restoreCheckpoint(cfg.resumeFrom, module, optimizer);
      start = info.step;
      seed = info.seed;
      if (start > cfg.steps)
        throw new Error(`fit(options): the checkpoint is at step ${start}, past config.steps = ${cfg.steps}`);
    }
    const log = cfg.metricsPath === null ? null : new MetricsLog(cfg.metricsPath, cfg.resumeFrom !== null);
    const bar = cfg.progress ? progress(cfg.steps - start, { label: cfg.label, unit: "step" }) : null;
    const result: FitResult = {
      startStep: start,
      steps: cfg.steps,
      history: [],
      evals: [],
      skippedSteps: [],
      tokens: 0,
      trainMs: 0,
      wallMs: 0,
      tokensPerSecond: 0,
      seed,
      checkpoint: null,
    };
    const pause = yielder(cfg.yieldMs);
    const every = (n: number, step: number) => step + 1 === cfg.steps || (n > 0 && (step + 1) % n === 0);
    try {
      for (let step = start; step < cfg.steps; step++) {
        throwIfCancelled(`fit, before step ${step + 1} of ${cfg.steps}`);
        throwIfCancelled(`fit, before step ${step + 1} of ${cfg.steps}`);
        const t0 = performance.now();
        seedGlobal(stepSeed(seed, step));
        const lr = learningRate(cfg.schedule, step);
        optimizer.learningRate = lr;
        const { record, aux } = trainStep(options, optimizer, variables, step, lr, cfg, log);
        try {
          if (options.afterStep) await options.afterStep({ ...record, module, aux });
        } finally {
          tf.dispose(Object.values(aux));
        }
        record.ms = performance.now() - t0;
        result.trainMs += record.ms;
        result.tokens += record.tokens;
        result.history.push(record);
        if (record.skipped) {
          result.skippedSteps.push(step);
          console.warn(
            `fit: step ${step} skipped (lr ${lr}): the loss is ${record.loss} and the gradient norm ${record.gradNorm}; the weights are unchanged`,
          );
        }
        if (log && every(cfg.logEvery, step))
          log.append({
            step,
            loss: record.loss,
            lr,
            gradNorm: record.gradNorm,
            tokens: record.tokens,
            ms: record.ms,
            ...record.metrics,
          });
        bar?.tick(1, { loss: record.loss, lr });
        if (options.evaluate && every(cfg.evalEvery, step)) {
          const values = numbers(await options.evaluate(step + 1));
          result.evals.push({ step: step + 1, values });
          log?.append({
            step: step + 1,
            ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`eval.${k}`, v])),
          });
        }
        if (cfg.checkpointDir !== null && every(cfg.checkpointEvery, step)) {
          result.checkpoint = path.join(cfg.checkpointDir, checkpointName(step + 1));
          saveCheckpoint(result.checkpoint, {
            module,
            optimizer,
            step: step + 1,
            seed,
            config: { fit: cfg, model: options.modelConfig ?? null },
          });
        }
        await pause();
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

/** One optimizer step on the step's batch; returns the record (ms filled by the caller) and the loss's aux tensors. */
function trainStep<B extends tf.TensorContainer>(
  options: FitOptions<B>,
  optimizer: AdamW,
  variables: tf.Variable[],
  step: number,
  lr: number,
  cfg: FitConfig,
  log: MetricsLog | null,
): { record: StepRecord; aux: Record<string, tf.Tensor> } {
  const batch = options.batches(step);
  const inputs = (batch as { inputs?: unknown }).inputs;
  const tokens = inputs instanceof tf.Tensor ? inputs.size : 0;
  try {
    const { loss, gradNorm, metrics, aux, applied } = optimizerStep(
      optimizer,
      variables,
      () => options.loss(batch, step),
      cfg,
    );
    return { record: { step, loss, skipped: !applied, lr, gradNorm, tokens, ms: 0, metrics }, aux };
  } catch (e) {
    if (!(e instanceof NonFiniteStepError)) throw e;
    log?.append({ step, loss: e.loss, lr, gradNorm: e.gradNorm });
    throw new Error(
      `fit: the loss is ${e.loss} at step ${step} (lr ${lr}), the gradient norm ${e.gradNorm}; the update was not applied (the weights are those before this step): lower the learning rate, clip gradients, or set config.onNonFinite = "skip"`,
    );
  } finally {
    tf.dispose(batch);
  }
}
