// Language models: a decoder-only transformer (learned positions, or RoPE in either layout with optional YaRN;
// MHA/GQA/MQA, MLA or sliding-window attention; RMSNorm/LayerNorm, dense SwiGLU or MoE FFN, tied or untied head; its
// loss is the fused lab.softmaxCrossEntropy), presets with parameter counts, KV-cache generation and cache
// measurements, multi-token prediction (training loss and speculative decoding with the MTP draft), DeepSeek-V2/V3
// configs and checkpoints (HF and inference formats). `lab.model`.
export { countParams, DEFAULT_LM, isMoELayer, lmConfig, moeSettings, mtpParams, PRESETS, presetConfig } from "./config";
export type { LMConfig, MtpCounts, ParamCounts, PositionKind, PresetName } from "./config";
export { LayerNorm, makeNorm, NORM_KINDS, normParams, RMSNorm } from "./norm";
export type { NormKind } from "./norm";
export { applyRope, DEFAULT_ROPE, ROPE_LAYOUTS, ropeAngle, ropeTables } from "./rope";
export type { RopeLayout, RopeOptions, RopeTables } from "./rope";
export { correctionDim, correctionRange, DEFAULT_YARN, yarnFrequencies, yarnMscale, yarnScaling } from "./yarn";
export type { YarnScaling } from "./yarn";
export { Embedding } from "./embedding";
export { KVCache } from "./kv-cache";
export type { CacheParts } from "./kv-cache";
export { attend, causalMask } from "./attend";
export { CausalSelfAttention, DEFAULT_ATTENTION } from "./attention";
export type { AttentionOptions, CacheSlot } from "./attention";
export { bandedScores, keptPositions, windowedAttention, windowKeep, windowMask } from "./sparse";
export type { SlidingWindow } from "./sparse";
export { DEFAULT_MLA, MLA, mlaConfig, mlaParams } from "./mla";
export type { MLAConfig, MLAPath } from "./mla";
export {
  activeYarn,
  ATTENTION_KINDS,
  attentionParams,
  kvCacheBytesPerToken,
  kvHeads,
  makeAttention,
  mlaSettings,
  ropeDim,
  ropeFor,
  rowRopeFor,
  slidingWindow,
  softmaxScale,
} from "./attention-kind";
export type { AttentionKind, SelfAttention } from "./attention-kind";
export { Block } from "./block";
export { checkpointedBlock, stepMemory } from "./checkpointing";
export type { CheckpointedOutput, StepMemory } from "./checkpointing";
export type { BlockOutput } from "./block";
export { TransformerLM } from "./transformer";
export { MTPModule, MTPModules } from "./mtp";
export { acceptanceRate, speculativeGenerate } from "./speculative";
export type { SpeculativeResult } from "./speculative";
export {
  DEFAULT_DEEPSEEK_CONFIG_OPTIONS,
  deepSeekConfig,
  deepSeekConfigJson,
  readDeepSeekConfig,
} from "./deepseek-config";
export type { DeepSeekConfigJsonOptions, DeepSeekConfigOptions, DeepSeekFormat, DeepSeekSpec } from "./deepseek-config";
export {
  checkpointNames,
  FP8_BLOCK,
  hfName,
  inferenceName,
  isFp8Linear,
  isStackedExperts,
  mpLayout,
} from "./deepseek-names";
export { DEEPSEEK_PRESETS, deepSeekPreset } from "./deepseek-presets";
export type { DeepSeekPreset, DeepSeekPresetName } from "./deepseek-presets";
export { DEFAULT_LOAD_DEEPSEEK, DEFAULT_SAVE_DEEPSEEK, loadDeepSeek, saveDeepSeek } from "./deepseek-checkpoint";
export type { LoadDeepSeekOptions, SaveDeepSeekOptions, SaveDtype } from "./deepseek-checkpoint";
export type { LMHiddenOutput, LMLoss, LMOutput, LMStepLoss } from "./transformer";
export { DEFAULT_GENERATE, DEFAULT_SAMPLE, generate, sampleToken } from "./generate";
export type { GenerateConfig, SampleConfig } from "./generate";
export { decodeSpeed, measureCache } from "./cache-measure";
export type { CacheFootprint, DecodeSpeed } from "./cache-measure";
export { checkSample } from "./generate";
export { checkPositions, clampedPositions, PAD_POSITION, rowMask } from "./row-positions";
export type { RowPositions } from "./row-positions";
export { rowRopeTables } from "./rope";
export { forwardRows } from "./batch-step";
export type { StepModel, StepRow } from "./batch-step";
export { checkPrompt, generateBatch } from "./generate-batch";
