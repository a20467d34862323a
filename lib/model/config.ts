// Language-model configuration: the fields, the presets (nano, micro, small) and the parameter counts, derived in one
// place. Reference: nanoGPT's GPTConfig and DeepSeek-V3 inference/model.py `ModelArgs` (n_dense_layers, moe fields).
import { checkPositiveInt, checkRange, withDefaults } from "../check";
import { DEFAULT_MOE, moeConfig, moeParamCounts } from "../moe";
import type { MoEConfig } from "../moe";
import { NORM_KINDS, NormKind, normParams } from "./norm";
import { attentionParams, checkAttention } from "./attention-kind";
import type { AttentionKind } from "./attention-kind";
import type { MLAConfig } from "./mla";
import type { RopeLayout } from "./rope";
import type { YarnScaling } from "./yarn";
import type { MatmulPrecision } from "../nn/precision";

/** How a model knows token positions: rotary on queries and keys, or a learned absolute embedding. */
export type PositionKind = "rope" | "learned";

/** Decoder-only transformer settings. */
export interface LMConfig {
  /** Token vocabulary size V (the tokenizer's vocabSize). */
  vocabSize: number;
  /** Model width d. */
  dim: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; must divide dim, and with RoPE the head width dim/nHeads must be even (RoPE rotates pairs). */
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
  /** Positions: "rope" rotates queries and keys (RoFormer); "learned" adds a trained [contextLen, d] table to the token
   * embedding (nanoGPT's wpe; the benchmark's nanoGPT twin). Default "rope". */
  positions: PositionKind;
  /** RoPE base θ (used when positions is "rope"). */
  ropeTheta: number;
  /** The output head reuses the token embedding (logits = h·Eᵀ) instead of its own [V, d] matrix. */
  tiedHead: boolean;
  /** Std of the normal init of the token embedding (and of an untied head); projections use Linear's 1/√fan_in. */
  initStd: number;
  /** "mha" (MHA/GQA/MQA by nKVHeads) or "mla" (multi-head latent attention, `mla`). Default "mha". */
  attention: AttentionKind;
  /** Key/value heads of "mha" attention, dividing nHeads: null = nHeads (MHA), 1 = MQA, else GQA. Default null. */
  nKVHeads: number | null;
  /** MLA settings merged over lib/model/mla.ts DEFAULT_MLA (used when attention is "mla"). Default {}. */
  mla: Partial<MLAConfig>;
  /** RoPE pair layout: "half" (rotate-half) or "interleaved" (DeepSeek inference). Default "half". */
  ropeLayout: RopeLayout;
  /** YaRN (HF rope_scaling names) merged over DEFAULT_YARN; on when contextLen > originalMaxPositionEmbeddings. Default null. */
  ropeScaling: Partial<YarnScaling> | null;
  /** Sparse attention ("mha" only): each query sees the last slidingWindow positions (itself included); null = full. Default null. */
  slidingWindow: number | null;
  /** With slidingWindow: the first globalTokens positions stay visible to every query. Default 0. */
  globalTokens: number;
  /** Gradient checkpointing: keep only each block's input in training and recompute the block in backward. */
  checkpoint: boolean;
  /** Multi-token-prediction modules D (DeepSeek-V3 §2.2, lib/model/mtp.ts): module k predicts the token k + 1 ahead;
   * 0 = none (the plain next-token model). Default 0. */
  mtpDepth: number;
  /** Weight λ of the MTP loss λ/D·Σ_k L_k added to the next-token loss (V3: 0.3, later 0.1). Default 0.3. */
  mtpLambda: number;
  /** Linear products (projections, FFNs, shared experts, head) in "fp32" or opt-in "bf16" mixed precision (lib/nn/precision.ts:
   * bf16 inputs, fp32 accumulation, fp32 master weights and optimizer; needs AMX or AVX512-BF16). Default "fp32". */
  precision: MatmulPrecision;
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
    positions: "rope",
    ropeTheta: 10000,
    tiedHead: true,
    initStd: 0.02,
    attention: "mha",
    nKVHeads: null,
    mla: Object.freeze({}),
    ropeLayout: "half",
    ropeScaling: null,
    slidingWindow: null,
    globalTokens: 0,
    checkpoint: false,
    mtpDepth: 0,
    mtpLambda: 0.3,
    precision: "fp32",
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

/** Resolved configs (lmConfig's and presetConfig's results, frozen): TransformerLM and countParams take them as given. */
const RESOLVED = new WeakSet<object>();

/**
 * `partial` merged over DEFAULT_LM (its `moe` merged over the default's), checked; errors name the field ("lmConfig:
 * moe.topK …"). The result is resolved once: frozen, with `moe` the full MoE settings when ffn is "moe", and passed
 * down as given (TransformerLM, its blocks and MoE layers, countParams do not merge or check it again).
 */
export function lmConfig(partial: Partial<LMConfig> = {}): LMConfig {
  if (RESOLVED.has(partial)) return partial as LMConfig;
  const fn = "lmConfig";
  return resolve(fn, {
    ...withDefaults(fn, DEFAULT_LM, partial),
    moe: withDefaults(fn, DEFAULT_LM.moe, partial.moe, Object.keys(DEFAULT_MOE), "moe"),
  });
}

/** A preset with `overrides` merged over it (its `moe` merged over the preset's), checked and resolved as lmConfig's. */
export function presetConfig(name: PresetName, overrides: Partial<LMConfig> = {}): LMConfig {
  const base = PRESETS[name];
  if (!base)
    throw new Error(`presetConfig(name): expected one of ${Object.keys(PRESETS).join(", ")}, got ${String(name)}`);
  return resolve("lmConfig", { ...base, ...overrides, moe: { ...base.moe, ...overrides.moe } });
}

function resolve(fn: string, c: LMConfig): LMConfig {
  for (const key of ["vocabSize", "dim", "nLayers", "nHeads", "contextLen", "ffnHidden"] as const)
    checkPositiveInt(fn, key, c[key]);
  if (c.dim % c.nHeads) throw new Error(`${fn}: dim (${c.dim}) must be divisible by nHeads (${c.nHeads})`);
  if (c.positions !== "rope" && c.positions !== "learned")
    throw new Error(`${fn}: positions must be "rope" or "learned", got ${String(c.positions)}`);
  if (c.positions === "rope" && (c.dim / c.nHeads) % 2)
    throw new Error(`${fn}: head width dim/nHeads = ${c.dim / c.nHeads} must be even for RoPE`);
  if (c.ffn !== "dense" && c.ffn !== "moe")
    throw new Error(`${fn}: ffn must be "dense" or "moe", got ${String(c.ffn)}`);
  if (!Number.isSafeInteger(c.nDenseLayers) || c.nDenseLayers < 0 || c.nDenseLayers > c.nLayers) {
    throw new Error(`${fn}: nDenseLayers must be an integer in [0, nLayers = ${c.nLayers}], got ${c.nDenseLayers}`);
  }
  if (!NORM_KINDS.includes(c.norm))
    throw new Error(`${fn}: norm must be one of ${NORM_KINDS.join(", ")}, got ${String(c.norm)}`);
  checkRange(fn, "normEps", c.normEps, 0, 1);
  if (!(Number.isFinite(c.ropeTheta) && c.ropeTheta > 1))
    throw new Error(`${fn}: ropeTheta must be a finite number > 1, got ${c.ropeTheta}`);
  if (!(Number.isFinite(c.initStd) && c.initStd >= 0))
    throw new Error(`${fn}: initStd must be a finite number ≥ 0, got ${c.initStd}`);
  if (typeof c.checkpoint !== "boolean")
    throw new Error(`${fn}: checkpoint must be a boolean, got ${String(c.checkpoint)}`);
  if (!(Number.isSafeInteger(c.mtpDepth) && c.mtpDepth >= 0))
    throw new Error(`${fn}: mtpDepth must be an integer ≥ 0, got ${c.mtpDepth}`);
  if (c.mtpDepth >= c.contextLen)
    throw new Error(`${fn}: mtpDepth (${c.mtpDepth}) must be below contextLen (${c.contextLen})`);
  if (!(Number.isFinite(c.mtpLambda) && c.mtpLambda >= 0))
    throw new Error(`${fn}: mtpLambda must be a finite number ≥ 0, got ${c.mtpLambda}`);
  if (c.precision !== "fp32" && c.precision !== "bf16")
    throw new Error(`${fn}: precision must be "fp32" or "bf16", got ${JSON.stringify(c.precision)}`);
  checkAttention(c);
  const resolved: LMConfig = {
    ...c,
    moe: c.ffn === "moe" ? moeConfig(c.moe, fn, "moe.") : Object.freeze({ ...c.moe }),
  };
  RESOLVED.add(Object.freeze(resolved));
  return resolved;
}

/** Which blocks have an MoE FFN. */
export function isMoELayer(c: LMConfig, layer: number): boolean {
  return c.ffn === "moe" && layer >= c.nDenseLayers;
}

/** The MoE layer's full settings for this model: the resolved config's own (DEFAULT_MOE with `moe` merged over it, checked). */
export function moeSettings(c: LMConfig): MoEConfig {
  return moeConfig(lmConfig(c).moe, "lmConfig", "moe.");
}

/** Parameter counts of a model, total and per token. */
export interface ParamCounts {
  /** Every parameter, the MTP modules' included (MoE router biases are buffers, not counted). */
  total: number;
  /** Parameters one token's forward pass uses: everything but the routed experts it is not sent to (the MTP
   * modules included: a training step runs every token through them). */
  active: number;
  /** active / total. */
  utilisation: number;
  /** Token embedding V·d, plus the position table contextLen·d when positions are "learned". */
  embedding: number;
  /** Untied head V·d (0 when tied). */
  head: number;
  /** One block's attention: 4·d² for MHA (fused qkv 3d² + output d²); GQA/MQA and MLA per attention-kind.ts. */
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
  /**
   * `active` without the input embedding table when the head is untied (a token reads one row of it: its other
   * V·d − d weights do no work); with a tied head the same matrix is the full output projection, so nothing is dropped.
   * This is how DeepSeek counts activated parameters: it gives V3 36.6B ("37B"), V2 20.9B ("21B"), V2-Lite 2.45B ("2.4B").
   */
  activeNonEmbedding: number;
  /** Gate correction-bias elements over all MoE layers (E each when moe.balance is "auxfree"): buffers updated by rule,
   * not parameters, so not in `total`; checkpoints store them (V3: 256 × 58 = 14,848). */
  gateBias: number;
  /** The mtpDepth MTP modules' parameters, in `total` (mtpParams(c, c.mtpDepth).total; 0 without MTP). DeepSeek's
   * published sizes (V3 671B / 37B) leave them out: subtract this and mtpActive to compare. */
  mtp: number;
  /** The MTP modules' parameters one token uses, in `active`. */
  mtpActive: number;
}

/** Counts the parameters of the model `c` describes (the one place they are derived; tests compare numParams()). */
export function countParams(config: LMConfig): ParamCounts {
  const c = lmConfig(config);
  const { vocabSize: V, dim: d, nLayers: L, ffnHidden } = c;
  const moeLayers = c.ffn === "moe" ? L - c.nDenseLayers : 0;
  const moe = moeSettings(c);
  const m = moeParamCounts(d, moe);
  const embedding = V * d + (c.positions === "learned" ? c.contextLen * d : 0);
  const head = c.tiedHead ? 0 : V * d;
  const attentionPerLayer = attentionParams(c);
  const denseFfnPerLayer = 3 * d * ffnHidden;
  const moeFfnPerLayer = m.total;
  const moeFfnActivePerLayer = m.active;
  const norms = (2 * L + 1) * normParams(c.norm, d);
  const common = embedding + head + L * attentionPerLayer + (L - moeLayers) * denseFfnPerLayer + norms;
  const mtp = mtpCounts(c, c.mtpDepth, attentionPerLayer, denseFfnPerLayer, m);
  const total = common + moeLayers * moeFfnPerLayer + mtp.total;
  const active = common + moeLayers * moeFfnActivePerLayer + mtp.active;
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
    perExpert: m.perExpert,
    moeLayers,
    activeNonEmbedding: active - (c.tiedHead ? 0 : embedding),
    gateBias: moe.balance === "auxfree" ? moeLayers * moe.nRouted : 0,
    mtp: mtp.total,
    mtpActive: mtp.active,
  };
}

/** Parameters of multi-token-prediction modules on top of a model. */
export interface MtpCounts {
  /** All modules' parameters (shared embedding and head not counted again). */
  total: number;
  /** What one token's pass through every module uses (routed experts: topK of them). */
  active: number;
  /** One module: RMSNorms of the hidden state, of the embedding and before the shared head (3·d), projection M
   * [d, 2d], and one block (attention, two norms, the FFN of the model's last block). */
  perModule: number;
}

/**
 * Parameters of `depth` MTP modules (DeepSeek-V3 §2.2; the HF checkpoint's layer 61: enorm, hnorm, eh_proj,
 * shared_head.norm and one transformer block) for the model `c`. The embedding and the output head are the main
 * model's, shared; the HF checkpoint stores copies of them in the MTP layer (2·V·d more on disk).
 */
export function mtpParams(c: LMConfig, depth: number): MtpCounts {
  if (!Number.isSafeInteger(depth) || depth < 0)
    throw new Error(`mtpParams(c, depth): depth must be an integer ≥ 0, got ${depth}`);
  const r = lmConfig(c);
  const p = countParams(r);
  return mtpCounts(r, depth, p.attentionPerLayer, p.denseFfnPerLayer, moeParamCounts(r.dim, moeSettings(r)));
}

/** `depth` MTP modules of the model `c` from its per-layer counts (countParams and mtpParams share it). */
function mtpCounts(
  c: LMConfig,
  depth: number,
  attention: number,
  denseFfn: number,
  moe: { total: number; active: number },
): MtpCounts {
  const d = c.dim;
  const moeBlock = isMoELayer(c, c.nLayers - 1);
  const fixed = 3 * normParams(c.norm, d) + 2 * d * d + attention + 2 * normParams(c.norm, d);
  const perModule = fixed + (moeBlock ? moe.total : denseFfn);
  const activePerModule = fixed + (moeBlock ? moe.active : denseFfn);
  return { total: depth * perModule, active: depth * activePerModule, perModule };
}
