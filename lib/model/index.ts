// Language models: a decoder-only transformer (RoPE multi-head attention, RMSNorm/LayerNorm, dense SwiGLU or MoE
// FFN, tied or untied head), presets with parameter counts, cross-entropy, KV-cache generation. `lab.model`.
export { countParams, DEFAULT_LM, isMoELayer, lmConfig, moeSettings, PRESETS, presetConfig } from "./config";
export type { LMConfig, ParamCounts, PresetName } from "./config";
export { LayerNorm, makeNorm, NORM_KINDS, normParams, RMSNorm } from "./norm";
export type { NormKind } from "./norm";
export { applyRope, ropeAngle, ropeTables } from "./rope";
export type { RopeTables } from "./rope";
export { Embedding } from "./embedding";
export { KVCache } from "./kv-cache";
export { CausalSelfAttention, causalMask } from "./attention";
export type { CacheSlot } from "./attention";
export { Block } from "./block";
export { checkpointedBlock, stepMemory } from "./checkpointing";
export type { CheckpointedOutput, StepMemory } from "./checkpointing";
export { checkpointTradeoff } from "./checkpoint-tradeoff";
export type { CheckpointSide } from "./checkpoint-tradeoff";
export type { BlockOutput } from "./block";
export { TransformerLM } from "./transformer";
export type { LMLoss, LMOutput, LMStepLoss } from "./transformer";
export { crossEntropy, tokenCrossEntropy } from "./loss";
export { DEFAULT_GENERATE, DEFAULT_SAMPLE, generate, sampleToken } from "./generate";
export type { GenerateConfig, SampleConfig } from "./generate";
export { DEFAULT_LM_RUN, routedIndices, routedLoads, trainLM, trainThroughput, valLoss } from "./experiment";
export type { LMRun, LMRunConfig } from "./experiment";
