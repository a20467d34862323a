// Which attention a model uses, derived in one place from its LMConfig: the module (MHA/GQA/MQA, optionally with a
// sliding window, or MLA), its parameter count, softmax scale and RoPE tables (layout, YaRN), and what its KV cache
// holds per token. References: DeepSeek-V3 inference/model.py (`MLA.__init__`'s softmax scale, `precompute_freqs_cis`);
// the DeepSeek-V2 report Table 1 (KV cache per token: MHA 2·n_h·d_h·l, GQA 2·n_g·d_h·l, MQA 2·d_h·l, MLA (d_c + d_h^R)·l).
import type { LMConfig } from "./config";
import { CausalSelfAttention } from "./attention";
import { MLA, mlaConfig, MLAConfig, mlaParams } from "./mla";
import { ROPE_LAYOUTS, RopeOptions, ropeTables, RopeTables, rowRopeTables } from "./rope";
import type { SlidingWindow } from "./sparse";
import { yarnFrequencies, yarnMscale, yarnScaling, YarnScaling } from "./yarn";

/** "mha": multi-head attention with nKVHeads key/value heads (MHA, GQA, MQA); "mla": multi-head latent attention. */
export type AttentionKind = "mha" | "mla";

/** The kinds, for config checks. */
export const ATTENTION_KINDS: readonly AttentionKind[] = Object.freeze(["mha", "mla"] as AttentionKind[]);

/** An attention layer of any kind. */
export type SelfAttention = CausalSelfAttention | MLA;

/** The model's MLA settings (DEFAULT_MLA with config.mla merged over it, checked). */
export function mlaSettings(c: LMConfig): MLAConfig {
  return mlaConfig(c.mla);
}

/** The model's YaRN settings when YaRN is on: ropeScaling set and contextLen > originalMaxPositionEmbeddings
 * (DeepSeek's switch `max_seq_len > original_seq_len`); null otherwise. */
export function activeYarn(c: LMConfig): YarnScaling | null {
  if (!c.ropeScaling) return null;
  const s = yarnScaling(c.ropeScaling);
  return c.contextLen > s.originalMaxPositionEmbeddings ? s : null;
}

/** Key/value heads of an "mha" model (nKVHeads, or nHeads when null). */
export function kvHeads(c: LMConfig): number {
  return c.nKVHeads ?? c.nHeads;
}

/** The sliding window of an "mha" model, or null for full attention. */
export function slidingWindow(c: LMConfig): SlidingWindow | null {
  return c.slidingWindow === null ? null : { window: c.slidingWindow, global: c.globalTokens };
}

/** Width RoPE rotates: the head width dim/nHeads, or MLA's qkRopeHeadDim. */
export function ropeDim(c: LMConfig): number {
  return c.attention === "mla" ? mlaSettings(c).qkRopeHeadDim : c.dim / c.nHeads;
}

/** Softmax scale: (query/key width)^−0.5, times yarnMscale(factor, mscaleAllDim)² when YaRN is on. */
export function softmaxScale(c: LMConfig): number {
  const m = c.attention === "mla" ? mlaSettings(c) : null;
  const qk = m ? m.qkNopeHeadDim + m.qkRopeHeadDim : c.dim / c.nHeads;
  const yarn = activeYarn(c);
  const mscale = yarn ? yarnMscale(yarn.factor, yarn.mscaleAllDim) : 1;
  return (mscale * mscale) / Math.sqrt(qk);
}

/** The model's RoPE options: layout, YaRN frequencies and amplitude. */
function ropeOptions(c: LMConfig): Partial<RopeOptions> {
  const yarn = activeYarn(c);
  return {
    layout: c.ropeLayout,
    frequencies: yarn ? yarnFrequencies(ropeDim(c), c.ropeTheta, yarn) : null,
    amplitude: yarn ? yarnMscale(yarn.factor, yarn.mscale) / yarnMscale(yarn.factor, yarn.mscaleAllDim) : 1,
  };
}

/** RoPE tables of positions start … start + length − 1 for this model (layout, YaRN frequencies and amplitude). */
export function ropeFor(c: LMConfig, start: number, length: number): RopeTables {
  return ropeTables(start, length, ropeDim(c), c.ropeTheta, ropeOptions(c));
}

/** Per-row RoPE tables [B, 1, T, ropeDim/2] of this model at `positions` [B·T] (integers ≥ 0). */
export function rowRopeFor(c: LMConfig, positions: Int32Array, B: number, T: number): RopeTables {
  return rowRopeTables(positions, B, T, ropeDim(c), c.ropeTheta, ropeOptions(c));
}

/** The attention module of one block. */
export function makeAttention(c: LMConfig): SelfAttention {
  if (c.attention === "mla")
    return new MLA(c.dim, c.nHeads, mlaSettings(c), { normEps: c.normEps, softmaxScale: softmaxScale(c) });
  return new CausalSelfAttention(c.dim, c.nHeads, {
    nKVHeads: kvHeads(c),
    softmaxScale: softmaxScale(c),
    window: slidingWindow(c),
  });
}

/** One block's attention parameters: MHA family d·(H + 2·Hkv)·dh + d² (4·d² for MHA); MLA see mlaParams. */
export function attentionParams(c: LMConfig): number {
  if (c.attention === "mla") return mlaParams(c.dim, c.nHeads, mlaSettings(c));
  const dh = c.dim / c.nHeads;
  return c.dim * (c.nHeads + 2 * kvHeads(c)) * dh + c.dim * c.dim;
}

/**
 * Bytes the KV cache holds per cached token over all layers: MHA/GQA/MQA 2·Hkv·dh, naive MLA H·(nope + rope + v),
 * absorbed MLA kvLoraRank + rope (V3: (512 + 64)·61 elements), each × nLayers × bytesPerElement. A sliding window
 * holds this per token for at most globalTokens + window − 1 tokens however long the sequence grows.
 */
export function kvCacheBytesPerToken(c: LMConfig, bytesPerElement: number): number {
  if (!(Number.isFinite(bytesPerElement) && bytesPerElement > 0)) {
    throw new Error(`kvCacheBytesPerToken: bytesPerElement must be a finite number > 0, got ${bytesPerElement}`);
  }
  let perLayer: number;
  if (c.attention === "mla") {
    const m = mlaSettings(c);
    perLayer =
      m.path === "absorbed"
        ? m.kvLoraRank + m.qkRopeHeadDim
        : c.nHeads * (m.qkNopeHeadDim + m.qkRopeHeadDim + m.vHeadDim);
  } else {
    perLayer = 2 * kvHeads(c) * (c.dim / c.nHeads);
  }
  return perLayer * c.nLayers * bytesPerElement;
}

/** Checks the attention fields of a model config (called by lmConfig); errors name the field. */
export function checkAttention(c: LMConfig): void {
  const fn = "lmConfig";
  if (!ATTENTION_KINDS.includes(c.attention))
    throw new Error(`${fn}: attention must be one of ${ATTENTION_KINDS.join(", ")}, got ${String(c.attention)}`);
  if (!ROPE_LAYOUTS.includes(c.ropeLayout))
    throw new Error(`${fn}: ropeLayout must be one of ${ROPE_LAYOUTS.join(", ")}, got ${String(c.ropeLayout)}`);
  if (c.ropeScaling) yarnScaling(c.ropeScaling);
  if (c.attention === "mla" && c.positions !== "rope") {
    throw new Error(
      `${fn}: attention "mla" needs positions "rope" (its decoupled rope key), got ${String(c.positions)}`,
    );
  }
  if (c.nKVHeads !== null) {
    if (!(Number.isSafeInteger(c.nKVHeads) && c.nKVHeads >= 1 && c.nHeads % c.nKVHeads === 0)) {
      throw new Error(
        `${fn}: nKVHeads must be a positive integer dividing nHeads (${c.nHeads}) or null, got ${c.nKVHeads}`,
      );
    }
  }
  if (c.slidingWindow !== null && !(Number.isSafeInteger(c.slidingWindow) && c.slidingWindow >= 1)) {
    throw new Error(`${fn}: slidingWindow must be a positive integer or null (full attention), got ${c.slidingWindow}`);
  }
  if (!(Number.isSafeInteger(c.globalTokens) && c.globalTokens >= 0))
    throw new Error(`${fn}: globalTokens must be an integer ≥ 0, got ${c.globalTokens}`);
  if (c.attention === "mla") {
    mlaSettings(c);
    if (c.nKVHeads !== null)
      throw new Error(`${fn}: nKVHeads applies to attention "mha"; MLA shares one latent (set it to null)`);
    if (c.slidingWindow !== null)
      throw new Error(`${fn}: slidingWindow is implemented for attention "mha" only, got attention "mla"`);
  }
  if (c.globalTokens > 0 && c.slidingWindow === null)
    throw new Error(`${fn}: globalTokens (${c.globalTokens}) needs a slidingWindow (full attention sees every token)`);
}
