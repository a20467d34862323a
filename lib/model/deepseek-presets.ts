// DeepSeek's published model configs as data, the lab's one home for their dimensions: the inference ModelArgs files
// of the DeepSeek-V3 repository (inference/configs/config_671B.json, config_236B.json, config_16B.json), turned into
// LMConfigs by deepSeekConfig. lab.plan's SHAPES and the notebooks derive DeepSeek's dimensions from here.
import type { LMConfig } from "./config";
import { deepSeekConfig, type DeepSeekConfigOptions } from "./deepseek-config";

/** One published config: the file's text as data, and what the file cannot say. */
export interface DeepSeekPreset {
  /** Where the JSON comes from. */
  file: string;
  /** The ModelArgs JSON, field for field as published (missing fields take ModelArgs' defaults). */
  modelArgs: Readonly<Record<string, number | string>>;
  /** The gates hold the aux-loss-free correction bias (ModelArgs has no field; model.py tests dim == 7168). */
  gateBias: boolean;
}

const CONFIGS = "deepseek-ai/DeepSeek-V3 inference/configs/";

/** The published configs by model name. */
export const DEEPSEEK_PRESETS = Object.freeze({
  /** 671B total / 37B active: MLA with q-LoRA, 256 routed + 1 shared experts, top-8 of 8 groups keeping 4. */
  "DeepSeek-V3": Object.freeze<DeepSeekPreset>({
    file: `${CONFIGS}config_671B.json`,
    modelArgs: Object.freeze({
      vocab_size: 129280,
      dim: 7168,
      inter_dim: 18432,
      moe_inter_dim: 2048,
      n_layers: 61,
      n_dense_layers: 3,
      n_heads: 128,
      n_routed_experts: 256,
      n_shared_experts: 1,
      n_activated_experts: 8,
      n_expert_groups: 8,
      n_limited_groups: 4,
      route_scale: 2.5,
      score_func: "sigmoid",
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      dtype: "fp8",
    }),
    gateBias: true,
  }),
  /** 236B total / 21B active: 160 routed + 2 shared experts, top-6 of 8 groups keeping 3, softmax. */
  "DeepSeek-V2": Object.freeze<DeepSeekPreset>({
    file: `${CONFIGS}config_236B.json`,
    modelArgs: Object.freeze({
      vocab_size: 102400,
      dim: 5120,
      inter_dim: 12288,
      moe_inter_dim: 1536,
      n_layers: 60,
      n_dense_layers: 1,
      n_heads: 128,
      n_routed_experts: 160,
      n_shared_experts: 2,
      n_activated_experts: 6,
      n_expert_groups: 8,
      n_limited_groups: 3,
      route_scale: 16.0,
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
    }),
    gateBias: false,
  }),
  /** 15.7B total / 2.4B active (V2-Lite): no q compression, 64 routed + 2 shared experts, top-6. */
  "DeepSeek-V2-Lite": Object.freeze<DeepSeekPreset>({
    file: `${CONFIGS}config_16B.json`,
    modelArgs: Object.freeze({
      vocab_size: 102400,
      dim: 2048,
      inter_dim: 10944,
      moe_inter_dim: 1408,
      n_layers: 27,
      n_dense_layers: 1,
      n_heads: 16,
      n_routed_experts: 64,
      n_shared_experts: 2,
      n_activated_experts: 6,
      route_scale: 1.0,
      q_lora_rank: 0,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      mscale: 0.707,
    }),
    gateBias: false,
  }),
});

/** A published DeepSeek model's name. */
export type DeepSeekPresetName = keyof typeof DEEPSEEK_PRESETS;

/**
 * The LMConfig of a published DeepSeek model (deepSeekConfig of its ModelArgs file, with the gate bias the release
 * has); `options` as deepSeekConfig's (e.g. `{ mla: "absorbed" }`).
 */
export function deepSeekPreset(name: DeepSeekPresetName, options: Partial<DeepSeekConfigOptions> = {}): LMConfig {
  const preset = (DEEPSEEK_PRESETS as Record<string, DeepSeekPreset>)[name];
  if (!preset)
    throw new Error(
      `deepSeekPreset(name): expected one of ${Object.keys(DEEPSEEK_PRESETS).join(", ")}, got ${String(name)}`,
    );
  return deepSeekConfig(preset.modelArgs, { gateBias: preset.gateBias, ...options });
}
