// Adapting trained models (lab.adapt): LoRA on Linear layers and routed experts chosen by name, frozen bases, merge and
// unmerge, adapters saved alone in PEFT's layout, QLoRA (a frozen quantized base), training footprints, distillation.
export { DEFAULT_LORA, DEFAULT_QLORA_QUANT, loraConfig, loraScale, matchesTarget } from "./config";
export type { LoraConfig, LoraInit } from "./config";
export { LoraExperts, LoraFactor, LoraLinear, quantizedMatmul } from "./lora";
export type { LoraMode } from "./lora";
export { LoraAdapter, adaptableModules, applyLora } from "./adapter";
export type { ApplyLoraOptions } from "./adapter";
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  PEFT_PREFIX,
  loadAdapter,
  peftConfigJson,
  readAdapterConfig,
  saveAdapter,
} from "./io";
export type { PeftLoraConfigJson } from "./io";
export {
  ADAMW_STATE_BYTES,
  FP32_BYTES,
  loraArithmetic,
  loraParamCount,
  projectionShape,
  trainingFootprint,
} from "./accounting";
export type { AttentionProjection, LoraArithmetic, TrainingFootprint } from "./accounting";
export { DEFAULT_DISTILL, distillationLoss } from "./distill";
export type { DistillConfig, DistillLoss } from "./distill";
