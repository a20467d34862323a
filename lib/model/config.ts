// Language-model configuration: the fields, the presets (nano, micro, small) and the parameter counts, derived in one
// place. Reference: nanoGPT's GPTConfig and DeepSeek-V3 inference/model.py `ModelArgs` (n_dense_layers, moe fields).
import { checkPositiveInt, checkRange, withDefaults } from "../check";
import { DEFAULT_MOE, moeConfig } from "../moe";
import type { MoEConfig } from "../moe";
import { NORM_KINDS, NormKind, normParams } from "./norm";

/** Decoder-only transformer settings. */
export interface LMConfig {
  /** Token vocabulary size V (the tokenizer's vocabSize). */
  vocabSize: number;
  /** Model width d. */
  dim: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; must divide dim, and the head width dim/nHeads must be even (RoPE rotates pairs). */
  nHeads: number;
  /** Longest sequence the model accepts (prompt + generated tokens). */
  contextLen: number;
  /** Hidden width of the dense SwiGLU FFN. */
  ffnHidden: number;
  /** "dense": every FFN is SwiGLU; "moe": blocks from nDenseLayers on use the MoE layer (lib/moe). */
  ffn: "dense" | "moe";
  /** With ffn "moe", the first n blocks keep a dense FFN (DeepSeek-V3's n_dense_layers = 3 of 61). */
  nDenseLayers: number;
  /** MoE layer settings merged over lib/moe's DEFAULT_MOE (used when ffn is "moe"; expertHidden null = dim). */
  moe: Partial<MoEConfig>;
  /** Normalisation before attention, before the FFN and before the head. */
  norm: NormKind;
  /** Epsilon of the norms. */
  normEps: number;
  /** RoPE base θ. */
  ropeTheta: number;
  /** The output head reuses the token embedding (logits = h·Eᵀ) instead of its own [V, d] matrix. */
  tiedHead: boolean;
  /** Std of the normal init of the token embedding (and of an untied head); projections use Linear's 1/√fan_in. */
  initStd: number;
}

/** The MoE fields each preset sets: 8 routed experts of a third of the dense width, 1 shared, top-2, so a token's
 * active FFN width (1 shared + 2 routed) equals the dense ffnHidden; total FFN width is 3× dense. */
function presetMoE(ffnHidden: number): Partial<MoEConfig> {
  return { nRouted: 8, nShared: 1, topK: 2, expertHidden: ffnHidden / 3 };
}

function preset(fields: Pick<LMConfig, "dim" | "nLayers" | "nHeads" | "contextLen" | "ffnHidden">): Readonly<LMConfig> {
  return Object.freeze({
    vocabSize: 256,
    ffn: "dense",
    nDenseLayers: 0,
    moe: Object.freeze(presetMoE(fields.ffnHidden)),
    norm: "rmsnorm",
    normEps: 1e-6,
    ropeTheta: 10000,
    tiedHead: true,
    initStd: 0.02,
    ...fields,
  });
}

/**
 * Presets as data (byte vocabulary V = 256, tied head, RMSNorm; counts from countParams, checked by hand in tests):
 * - nano:  d 64,  2 layers, 4 heads, context 64,  FFN 192 — dense 123,200 params; MoE 271,680 total / 124,224 active
 * - micro: d 128, 4 layers, 4 heads, context 128, FFN 384 — dense 885,888; MoE 2,069,632 total / 889,984 active
 * - small: d 256, 6 layers, 8 heads, context 256, FFN 768 — dense 5,180,672; MoE 12,270,848 total / 5,192,960 active
 */
export const PRESETS = Object.freeze({
  nano: preset({ dim: 64, nLayers: 2, nHeads: 4, contextLen: 64, ffnHidden: 192 }),
  micro: preset({ dim: 128, nLayers: 4, nHeads: 4, contextLen: 128, ffnHidden: 384 }),
  small: preset({ dim: 256, nLayers: 6, nHeads: 8, contextLen: 256, ffnHidden: 768 }),
});

export type PresetName = keyof typeof PRESETS;

/** The default configuration: the nano preset. */
export const DEFAULT_LM: Readonly<LMConfig> = PRESETS.nano;

/** `partial` merged over DEFAULT_LM (its `moe` merged over the default's), checked; errors name the field. */
export function lmConfig(partial: Partial<LMConfig> = {}): LMConfig {
  const fn = "lmConfig(config)";
  return checkConfig({ ...withDefaults(fn, DEFAULT_LM, partial), moe: withDefaults(fn, DEFAULT_LM.moe, partial.moe, Object.keys(DEFAULT_MOE), "config.moe") });
}

/** A preset with `overrides` merged over it (its `moe` merged over the preset's), checked. */
export function presetConfig(name: PresetName, overrides: Partial<LMConfig> = {}): LMConfig {
  const base = PRESETS[name];
  if (!base) throw new Error(`presetConfig(name): expected one of ${Object.keys(PRESETS).join(", ")}, got ${String(name)}`);
  return checkConfig({ ...base, ...overrides, moe: { ...base.moe, ...overrides.moe } });
}

function checkConfig(c: LMConfig): LMConfig {
  const fn = "lmConfig";
  for (const key of ["vocabSize", "dim", "nLayers", "nHeads", "contextLen", "ffnHidden"] as const) checkPositiveInt(fn, key, c[key]);
  if (c.dim % c.nHeads) throw new Error(`${fn}: dim (${c.dim}) must be divisible by nHeads (${c.nHeads})`);
  if ((c.dim / c.nHeads) % 2) throw new Error(`${fn}: head width dim/nHeads = ${c.dim / c.nHeads} must be even for RoPE`);
  if (c.ffn !== "dense" && c.ffn !== "moe") throw new Error(`${fn}: ffn must be "dense" or "moe", got ${String(c.ffn)}`);
  if (!Number.isSafeInteger(c.nDenseLayers) || c.nDenseLayers < 0 || c.nDenseLayers > c.nLayers) {
    throw new Error(`${fn}: nDenseLayers must be an integer in [0, nLayers = ${c.nLayers}], got ${c.nDenseLayers}`);
  }
  if (!NORM_KINDS.includes(c.norm)) throw new Error(`${fn}: norm must be one of ${NORM_KINDS.join(", ")}, got ${String(c.norm)}`);
  checkRange(fn, "normEps", c.normEps, 0, 1);
  if (!(Number.isFinite(c.ropeTheta) && c.ropeTheta > 1)) throw new Error(`${fn}: ropeTheta must be a finite number > 1, got ${c.ropeTheta}`);
  if (!(Number.isFinite(c.initStd) && c.initStd >= 0)) throw new Error(`${fn}: initStd must be a finite number ≥ 0, got ${c.initStd}`);
  if (c.ffn === "moe") moeConfig(c.moe);
  return c;
}

/** Which blocks have an MoE FFN. */
export function isMoELayer(c: LMConfig, layer: number): boolean {
  return c.ffn === "moe" && layer >= c.nDenseLayers;
}

/** The MoE layer's full settings for this model (DEFAULT_MOE with the model's `moe` merged over it, checked). */
export function moeSettings(c: LMConfig): MoEConfig {
  return moeConfig(c.moe);
}

/** Parameter counts of a model, total and per token. */
export interface ParamCounts {
  /** Every parameter (MoE router biases are buffers, not counted). */
  total: number;
  /** Parameters one token's forward pass uses: everything but the routed experts it is not sent to. */
  active: number;
  /** active / total. */
  utilisation: number;
  /** Token embedding V·d. */
  embedding: number;
  /** Untied head V·d (0 when tied). */
  head: number;
  /** One block's attention: 4·d² (fused qkv 3d² + output d²). */
  attentionPerLayer: number;
  /** One dense SwiGLU FFN: 3·d·ffnHidden. */
  denseFfnPerLayer: number;
  /** One MoE FFN, all experts: gate E·d + E routed SwiGLUs 3·d·h + shared SwiGLU 3·d·(nShared·h). */
  moeFfnPerLayer: number;
  /** One MoE FFN as a token uses it: gate + topK routed + shared. */
  moeFfnActivePerLayer: number;
  /** One routed expert's parameters 3·d·h (its weight memory is 4 bytes each in float32). */
  perExpert: number;
  /** Blocks with an MoE FFN. */
  moeLayers: number;
}

/** Counts the parameters of the model `c` describes (the one place they are derived; tests compare numParams()). */
export function countParams(c: LMConfig): ParamCounts {
  const { vocabSize: V, dim: d, nLayers: L, ffnHidden } = c;
  const moeLayers = c.ffn === "moe" ? L - c.nDenseLayers : 0;
  const m = moeSettings(c);
  const perExpert = 3 * d * (m.expertHidden ?? d);
  const shared = m.nShared * perExpert;
  const gate = m.nRouted * d;
  const embedding = V * d;
  const head = c.tiedHead ? 0 : V * d;
  const attentionPerLayer = 4 * d * d;
  const denseFfnPerLayer = 3 * d * ffnHidden;
  const moeFfnPerLayer = gate + m.nRouted * perExpert + shared;
  const moeFfnActivePerLayer = gate + m.topK * perExpert + shared;
  const norms = (2 * L + 1) * normParams(c.norm, d);
  const common = embedding + head + L * attentionPerLayer + (L - moeLayers) * denseFfnPerLayer + norms;
  const total = common + moeLayers * moeFfnPerLayer;
  const active = common + moeLayers * moeFfnActivePerLayer;
  return {
    total,
    active,
    utilisation: active / total,
    embedding,
    head,
    attentionPerLayer,
    denseFfnPerLayer,
    moeFfnPerLayer,
    moeFfnActivePerLayer,
    perExpert,
    moeLayers,
  };
}
