// Training (optimizers, schedules, clipping, checkpoints, the loop): the public API of this area, `lab.train`.
//
//   const result = await lab.train.fit({
//     module: model,                                         // any lab.nn.Module
//     loss: (batch) => model.loss(batch.inputs, batch.targets), // tf.Scalar, or { loss, metrics?, aux? }
//     batches: lab.data.randomBatches(train, { batchSize: 16, seqLen: 64, seed }), // (step) => batch; fit disposes it
//     evaluate: () => lab.train.evaluateLoss(lossFn, valSet),  // every evalEvery steps and at the end
//     afterStep: ({ aux }) => moe.updateBias(aux.load),       // after each optimizer step (aux freed afterwards)
//     config: { steps: 500, schedule: { kind: "cosine", lr: 3e-3, warmupSteps: 50, totalSteps: 500, minLr: 3e-4 },
//               clipNorm: 1, metricsPath: "runs/a/metrics.jsonl", checkpointDir: "runs/a/ckpt", checkpointEvery: 100 },
//   });
//   // result.history[i].loss, result.evals, result.tokensPerSecond; resume: config.resumeFrom = "runs/a/ckpt/step-000100"
//
// One optimizer, AdamW (decoupled decay, fused natively on the `native` backend, tf ops elsewhere; lab.adam() is it
// without decay), one step function (loss → grads → clip → NaN check → update) that every loop calls, global-norm
// clipping, step-seeded randomness (step s runs with lab.seed(stepSeed(seed, s))), safetensors checkpoints with exact resume.
export { adam, adamw, adamwConfig, AdamW, DEFAULT_ADAM, DEFAULT_ADAMW } from "./optimizer";
export type { AdamState, AdamWConfig } from "./optimizer";
export { checkStepConfig, DEFAULT_STEP, NonFiniteStepError, optimizerStep } from "./step";
export type { NonFinitePolicy, StepConfig, StepResult } from "./step";
export { variableGrads } from "./grads";
export { yielder } from "./yielder";
export {
  checkSchedule,
  comparableSchedules,
  DEFAULT_SCHEDULE,
  learningRate,
  SCHEDULE_KINDS,
  scheduleCurve,
} from "./schedules";
export type {
  ConstantSchedule,
  CosineSchedule,
  DecaySettings,
  ExponentialSchedule,
  LinearSchedule,
  LrSchedule,
  StepSchedule,
} from "./schedules";
export { CLIP_EPS, clipByGlobalNorm, globalNorm } from "./clip";
export { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from "./safetensors";
export type { Safetensors, SafetensorsDtype } from "./safetensors";
export {
  CHECKPOINT_FILES,
  checkpointName,
  latestCheckpoint,
  readCheckpointInfo,
  restoreCheckpoint,
  saveCheckpoint,
} from "./checkpoint";
export type { CheckpointContents, CheckpointInfo } from "./checkpoint";
export { MetricsLog, readMetrics } from "./metrics-log";
export type { MetricsRecord } from "./metrics-log";
export { evaluateLoss, evaluateSets, lossOf } from "./evaluate";
export type { BatchSet, LossFn, LossOutput } from "./evaluate";
export { DEFAULT_FIT, fit, fitConfig } from "./fit";
export type {
  AfterStepInfo,
  EvalRecord,
  FitConfig,
  FitOptimizerSettings,
  FitOptions,
  FitResult,
  StepRecord,
} from "./fit";
