// Language models: a decoder-only transformer (RoPE or learned positions, multi-head attention, RMSNorm/LayerNorm,
// dense SwiGLU or MoE FFN, tied or untied head; its loss is the fused lab.softmaxCrossEntropy), presets with parameter
// counts, KV-cache generation. `lab.model`.
export { countParams, DEFAULT_LM, isMoELayer, lmConfig, moeSettings, PRESETS, presetConfig } from "./config";
export type { LMConfig, ParamCounts, PositionKind, PresetName } from "./config";
export { LayerNorm, makeNorm, NORM_KINDS, normParams, RMSNorm } from "./norm";
export type { NormKind } from "./norm";
export { applyRope, ropeAngle, ropeTables } from "./rope";
export type { RopeTables } from "./rope";
export { Embedding } from "./embedding";
export { KVCache } from "./kv-cache";
export { CausalSelfAttention, causalMask } from "./attention";
export type { CacheSlot } from "./attention";
export { Block } from "./block";
export type { BlockOutput } from "./block";
export { TransformerLM } from "./transformer";
export type { LMLoss, LMOutput, LMStepLoss } from "./transformer";
export { DEFAULT_GENERATE, DEFAULT_SAMPLE, generate, sampleToken } from "./generate";
export type { GenerateConfig, SampleConfig } from "./generate";
