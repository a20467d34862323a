// Multi-head Latent Attention (MLA) with both inference paths. Reference: DeepSeek-V3 inference/model.py `MLA`
// (module names wq | wq_a, q_norm, wq_b; wkv_a, kv_norm, wkv_b, wo, so checkpoints map one to one) and the
// DeepSeek-V2 report §2.1. Queries split per head into [nope | rope]; wkv_a gives the latent [kvLoraRank] and ONE
// rope key shared by all heads; kv_norm (RMSNorm) normalises the latent and wkv_b, viewed [H, nope + v, kvLoraRank],
// up-projects it. "naive" caches the full per-head K [nope + rope] and V; "absorbed" folds wkv_b's K rows into the
// query and its V rows into the output and caches only kv_norm(latent) and the rope key.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { checkPositiveInt } from "../check";
import { causalAttention } from "../ops/causal-attention";
import { slotAttention } from "../ops/slot-attention";
import { attend } from "./attend";
import { slotPositions, type CacheSlot } from "./attention";
import { RMSNorm } from "./norm";
import { applyRope, RopeTables } from "./rope";

/** Which MLA computation runs (and what its cache holds). */
export type MLAPath = "naive" | "absorbed";

/** MLA settings (DeepSeek ModelArgs / HF DeepseekV3Config names in camelCase). */
export interface MLAConfig {
  /** Rank of the query's low-rank compression (wq_a → q_norm → wq_b); 0 = one full wq. */
  qLoraRank: number;
  /** Width of the compressed key/value latent (what the absorbed cache holds per token, with the rope key). */
  kvLoraRank: number;
  /** Per-head query/key width without position information. */
  qkNopeHeadDim: number;
  /** Width of the rotary part of each query head and of the single shared rope key (even). */
  qkRopeHeadDim: number;
  /** Per-head value width. */
  vHeadDim: number;
  /** "naive" (cache full K and V, DeepSeek attn_impl "naive") or "absorbed" (cache latent + rope key, "absorb"). */
  path: MLAPath;
}

/** Lab-scale defaults (V3 itself: qLoraRank 1536, kvLoraRank 512, nope 128, rope 64, v 128). */
export const DEFAULT_MLA: Readonly<MLAConfig> = Object.freeze({
  qLoraRank: 0,
  kvLoraRank: 32,
  qkNopeHeadDim: 16,
  qkRopeHeadDim: 8,
  vHeadDim: 16,
  path: "naive",
});

/** `partial` merged over DEFAULT_MLA, checked (errors name the field). */
export function mlaConfig(partial: Partial<MLAConfig> = {}): MLAConfig {
  const c = { ...DEFAULT_MLA, ...partial };
  const fn = "mlaConfig";
  if (!(Number.isSafeInteger(c.qLoraRank) && c.qLoraRank >= 0))
    throw new Error(`${fn}: qLoraRank must be an integer ≥ 0 (0 = no query compression), got ${c.qLoraRank}`);
  for (const key of ["kvLoraRank", "qkNopeHeadDim", "qkRopeHeadDim", "vHeadDim"] as const)
    checkPositiveInt(fn, key, c[key]);
  if (c.qkRopeHeadDim % 2)
    throw new Error(`${fn}: qkRopeHeadDim must be even (RoPE rotates pairs), got ${c.qkRopeHeadDim}`);
  if (c.path !== "naive" && c.path !== "absorbed")
    throw new Error(`${fn}: path must be "naive" or "absorbed", got ${String(c.path)}`);
  return c;
}

/** Parameters of one MLA layer of width `dim` with `nHeads` heads (norm weights included). */
export function mlaParams(dim: number, nHeads: number, c: MLAConfig): number {
  const qk = c.qkNopeHeadDim + c.qkRopeHeadDim;
  const wq = c.qLoraRank ? dim * c.qLoraRank + c.qLoraRank + c.qLoraRank * nHeads * qk : dim * nHeads * qk;
  const wkv =
    dim * (c.kvLoraRank + c.qkRopeHeadDim) + c.kvLoraRank + c.kvLoraRank * nHeads * (c.qkNopeHeadDim + c.vHeadDim);
  return wq + wkv + nHeads * c.vHeadDim * dim;
}

export class MLA extends Module {
  readonly config: MLAConfig;
  readonly scale: number;
  readonly wq: Linear | null; // [H·(nope + rope), dim]
  readonly wq_a: Linear | null; // [qLoraRank, dim]
  readonly q_norm: RMSNorm | null; // [qLoraRank]
  readonly wq_b: Linear | null; // [H·(nope + rope), qLoraRank]
  readonly wkv_a: Linear; // [kvLoraRank + rope, dim]
  readonly kv_norm: RMSNorm; // [kvLoraRank]
  readonly wkv_b: Linear; // [H·(nope + v), kvLoraRank]
  readonly wo: Linear; // [dim, H·v]

  /** softmaxScale null = (nope + rope)^−0.5 (a YaRN model passes that times mscale², see attention-kind.ts). */
  constructor(
    readonly dim: number,
    readonly nHeads: number,
    config: Partial<MLAConfig> = {},
    options: { normEps?: number; softmaxScale?: number | null } = {},
  ) {
    super();
    checkPositiveInt("MLA", "dim", dim);
    checkPositiveInt("MLA", "nHeads", nHeads);
    const c = (this.config = mlaConfig(config));
    const eps = options.normEps ?? 1e-6;
    const qk = c.qkNopeHeadDim + c.qkRopeHeadDim;
    this.scale = options.softmaxScale ?? 1 / Math.sqrt(qk);
    if (!(Number.isFinite(this.scale) && this.scale > 0))
      throw new Error(`MLA: softmaxScale must be a finite number > 0, got ${options.softmaxScale}`);
    if (c.qLoraRank) {
      this.wq = null;
      this.wq_a = this.child("wq_a", new Linear(dim, c.qLoraRank));
      this.q_norm = this.child("q_norm", new RMSNorm(c.qLoraRank, eps));
      this.wq_b = this.child("wq_b", new Linear(c.qLoraRank, nHeads * qk));
    } else {
      this.wq = this.child("wq", new Linear(dim, nHeads * qk));
      this.wq_a = this.q_norm = this.wq_b = null;
    }
    this.wkv_a = this.child("wkv_a", new Linear(dim, c.kvLoraRank + c.qkRopeHeadDim));
    this.kv_norm = this.child("kv_norm", new RMSNorm(c.kvLoraRank, eps));
    this.wkv_b = this.child("wkv_b", new Linear(c.kvLoraRank, nHeads * (c.qkNopeHeadDim + c.vHeadDim)));
    this.wo = this.child("wo", new Linear(nHeads * c.vHeadDim, dim));
  }

  /**
   * x [B, T, dim] → [B, T, dim]; `rope` holds the angles of the T positions over qkRopeHeadDim; with `slot`, this
   * call's entries (naive: k [B, H, T, nope + rope] and v [B, H, T, v]; absorbed: kv [B, 1, T, kvLoraRank + rope],
   * the normalised latent then the rope key) are appended to the cache. `rowMask` [B, 1, T, S] (per-row positions) replaces the causal mask.
   */
  apply(x: tf.Tensor3D, rope: RopeTables | null, slot?: CacheSlot, rowMask?: tf.Tensor4D): tf.Tensor3D {
    if (!rope)
      throw new Error('MLA.apply(x, rope): MLA\'s decoupled rope key needs RoPE tables (positions "rope"), got null');
    const [B, T, d] = x.shape;
    if (d !== this.dim) throw new Error(`MLA.apply(x): expected shape [B, T, ${this.dim}], got [${x.shape}]`);
    const { kvLoraRank: C, qkNopeHeadDim: nope, qkRopeHeadDim: r, vHeadDim: dv, path } = this.config;
    const H = this.nHeads;
    return tf.tidy(() => {
      const q2 = this.wq ? this.wq.apply(x) : this.wq_b!.apply(this.q_norm!.apply(this.wq_a!.apply(x))); // [B, T, H·(nope + r)]
      const q = tf.transpose(tf.reshape(q2, [B, T, H, nope + r]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, nope + r]
      const [qNope, qPe0] = tf.split(q, [nope, r], 3) as tf.Tensor4D[]; // [B, H, T, nope], [B, H, T, r]
      const qPe = applyRope(qPe0, rope); // [B, H, T, r]
      const [latent0, kPe0] = tf.split(this.wkv_a.apply(x), [C, r], 2); // [B, T, C], [B, T, r]
      const kPe = applyRope(tf.reshape(kPe0, [B, 1, T, r]) as tf.Tensor4D, rope); // [B, 1, T, r]
      const latent = tf.reshape(this.kv_norm.apply(latent0), [B, 1, T, C]) as tf.Tensor4D; // [B, 1, T, C]
      // Decoding reads the cache's slot buffers by position (the first dv columns of v); without a cache, per-row
      // positions (a ragged batch) need their explicit mask, otherwise the fused causal kernel.
      const at = slot ? slotPositions(slot, B, T, null) : null;
      const mix = (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, dv = v.shape[3]) =>
        at
          ? slotAttention(q, k, v, at.query, at.keys, { scale: this.scale, dv })
          : rowMask
            ? attend(q, k, v, rowMask, this.scale)
            : causalAttention(q, k, v, { scale: this.scale });
      let out: tf.Tensor; // [B, T, H·v]
      if (path === "naive") {
        const kv = tf.transpose(tf.reshape(this.wkv_b.apply(latent), [B, T, H, nope + dv]), [0, 2, 1, 3]); // [B, H, T, nope + v]
        const [kNope, v0] = tf.split(kv, [nope, dv], 3) as tf.Tensor4D[]; // [B, H, T, nope], [B, H, T, v]
        let k = tf.concat([kNope, tf.tile(kPe, [1, H, 1, 1])], 3) as tf.Tensor4D; // [B, H, T, nope + r]
        let v = v0;
        if (slot) ({ k, v } = slot.cache.appendSlots(slot.layer, { k, v }).parts); // [B, H, capacity, ·]
        const mixed = mix(tf.concat([qNope, qPe], 3) as tf.Tensor4D, k, v); // [B, H, T, v]
        out = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [B, T, H * dv]);
      } else {
        const w = tf.reshape(this.wkv_b.effectiveWeight(), [H, nope + dv, C]); // [H, nope + v, C] (an adapter's update included)
        const [wk, wv] = tf.split(w, [nope, dv], 1); // [H, nope, C], [H, v, C]
        const qHeads = tf.reshape(tf.transpose(qNope, [1, 0, 2, 3]), [H, B * T, nope]); // [H, B·T, nope]
        const qLatent = tf.transpose(tf.reshape(tf.matMul(qHeads, wk), [H, B, T, C]), [1, 0, 2, 3]); // [B, H, T, C]
        // One "kv head" of width C + r: scores = q_latent·latentᵀ + q_pe·kpeᵀ, values = its first C columns (the latent).
        let keys = tf.concat([latent, kPe], 3) as tf.Tensor4D; // [B, 1, T, C + r]
        if (slot) keys = slot.cache.appendSlots(slot.layer, { kv: keys }).parts.kv; // [B, 1, capacity, C + r]
        const mixed = at
          ? mix(tf.concat([qLatent, qPe], 3) as tf.Tensor4D, keys, keys, C)
          : mix(tf.concat([qLatent, qPe], 3) as tf.Tensor4D, keys, latent); // [B, H, T, C]
        const perHead = tf.reshape(tf.transpose(mixed, [1, 0, 2, 3]), [H, B * T, C]); // [H, B·T, C]
        const values = tf.matMul(perHead, wv, false, true); // [H, B·T, v]
        out = tf.reshape(tf.transpose(tf.reshape(values, [H, B, T, dv]), [1, 2, 0, 3]), [B, T, H * dv]);
      }
      return this.wo.apply(out) as tf.Tensor3D; // [B, T, dim]
    });
  }
}
