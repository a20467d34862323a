// Notebook harnesses, one room above the domain folders (lab.experiments): language-model runs with validation and
// routing loads, a lone MoE layer's train step, interleaved timing, the per-step series the notebooks plot, the
// Fashion-MNIST classifier and its loop, the balance run on the skewed stream, the MTP draft's decode speed, and
// quantized decode speed + perplexity.
export { DEFAULT_LM_RUN, routedIndices, routedLoads, trainLM, trainThroughput, valLoss } from "./lm-run";
export type { LMRun, LMRunConfig } from "./lm-run";
export { moeStep } from "./moe-step";
export { timeInterleaved } from "./interleaved";
export type { InterleavedConfig, TimedCall } from "./interleaved";
export { ffnLatency } from "./ffn-latency";
export type { FfnLatencyConfig, LatencyRow } from "./ffn-latency";
export { formatMeanStd, formatPaired, meanStd } from "./seeds";
export { loadShare, loadShareSpans, maxVioCurve, mean, meanLoads, meanSeries, movingAverage } from "./series";
export { draftSpeed } from "./draft-speed";
export type { DraftSpeed } from "./draft-speed";
export { balanceRun } from "./balance";
export type { BalanceRun } from "./balance";
export {
  DEFAULT_CLASSIFIER,
  DEFAULT_TRAIN_CLASSIFIER,
  MlpClassifier,
  evaluateClassifier,
  trainClassifier,
} from "./classifier";
export type { ClassifierConfig, TrainClassifierConfig } from "./classifier";
export { checkpointTradeoff } from "./checkpoint-tradeoff";
export type { CheckpointSide } from "./checkpoint-tradeoff";
export { DEFAULT_QUANT_DECODE, quantizedDecode } from "./quant-decode";
export type { QuantDecodeConfig, QuantDecodeRow } from "./quant-decode";
export {
  adaptRun,
  cloneModel,
  declarationLines,
  declarationPassRate,
  isCompleteMember,
  parsesAsMember,
  trainStudent,
} from "./fine-tune";
export type {
  AdaptData,
  AdaptMethod,
  AdaptResult,
  AdaptSettings,
  DistillRunSettings,
  PassRateConfig,
} from "./fine-tune";
