// Causal self-attention with nKVHeads key/value heads — MHA (nKVHeads = nHeads), GQA (1 < nKVHeads < nHeads), MQA
// (nKVHeads = 1) — RoPE on queries and keys, an optional sliding local + global window (lib/model/sparse.ts) and a KV
// cache holding nKVHeads heads. References: nanoGPT model.py `CausalSelfAttention` (fused qkv projection, no
// biases); Ainslie et al., "GQA" (2023); Shazeer, "Fast Transformer Decoding: One Write-Head is All You Need" (2019).
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { checkPositiveInt } from "../check";
import { causalAttention } from "../ops/causal-attention";
import { slotAttention } from "../ops/slot-attention";
import { attend } from "./attend";
import { applyRope, RopeTables } from "./rope";
import { KVCache } from "./kv-cache";
import { SlidingWindow, windowKeep } from "./sparse";

export { causalMask } from "./attend";

/** Where attention reads and writes cached keys and values during incremental decoding. */
export interface CacheSlot {
  cache: KVCache;
  /** This attention layer's index in the cache. */
  layer: number;
  /** The step's positions as int32 tensors (cache.stepPositions, made once per forward): query [B, T], keys [B, S]
   * (S = the slots every layer holds after appending). Absent: made from the cache here (one shared sequence). */
  positions?: { query: tf.Tensor2D; keys: tf.Tensor2D };
  /** Whether the step continues the cache's one shared sequence (no per-row positions). Absent: !cache.rowMode. */
  shared?: boolean;
}

/** The step's position tensors of `slot` (its own, or the shared sequence's, for T new tokens in B rows). */
export function slotPositions(
  slot: CacheSlot,
  B: number,
  T: number,
  window: SlidingWindow | null,
): { query: tf.Tensor2D; keys: tf.Tensor2D } {
  if (slot.positions) return slot.positions;
  const { query, keys } = slot.cache.stepPositions(B, T, window);
  return { query: tf.tensor2d(query, [B, T], "int32"), keys: tf.tensor2d(keys, [B, keys.length / B], "int32") }; // [B, T], [B, S]
}

/** Options of CausalSelfAttention beyond width and heads. */
export interface AttentionOptions {
  /** Key/value heads; must divide nHeads. null = nHeads (MHA). Default null. */
  nKVHeads: number | null;
  /** Softmax scale; null = 1/√headDim. Default null. */
  softmaxScale: number | null;
  /** Sliding local window + global tokens; null = full causal attention. Default null. */
  window: SlidingWindow | null;
}

export const DEFAULT_ATTENTION: Readonly<AttentionOptions> = Object.freeze({
  nKVHeads: null,
  softmaxScale: null,
  window: null,
});

export class CausalSelfAttention extends Module {
  readonly headDim: number;
  readonly nKVHeads: number;
  readonly scale: number;
  readonly window: SlidingWindow | null;
  readonly wqkv: Linear; // [(nHeads + 2·nKVHeads)·headDim, dim]
  readonly wo: Linear; // [dim, dim]

  constructor(
    readonly dim: number,
    readonly nHeads: number,
    options: Partial<AttentionOptions> = {},
  ) {
    super();
    const fn = "CausalSelfAttention";
    const o = { ...DEFAULT_ATTENTION, ...options };
    checkPositiveInt(fn, "dim", dim);
    checkPositiveInt(fn, "nHeads", nHeads);
    if (dim % nHeads) throw new Error(`${fn}: nHeads (${nHeads}) must divide dim (${dim})`);
    this.nKVHeads = o.nKVHeads ?? nHeads;
    checkPositiveInt(fn, "nKVHeads", this.nKVHeads);
    if (nHeads % this.nKVHeads) throw new Error(`${fn}: nKVHeads (${this.nKVHeads}) must divide nHeads (${nHeads})`);
    this.headDim = dim / nHeads;
    this.scale = o.softmaxScale ?? 1 / Math.sqrt(this.headDim);
    if (!(Number.isFinite(this.scale) && this.scale > 0))
      throw new Error(`${fn}: softmaxScale must be a finite number > 0, got ${o.softmaxScale}`);
    if (o.window) {
      checkPositiveInt(fn, "window.window", o.window.window);
      if (!(Number.isSafeInteger(o.window.global) && o.window.global >= 0))
        throw new Error(`${fn}: window.global must be an integer ≥ 0, got ${o.window.global}`);
    }
    this.window = o.window;
    this.wqkv = this.child("wqkv", new Linear(dim, (nHeads + 2 * this.nKVHeads) * this.headDim));
    this.wo = this.child("wo", new Linear(dim, dim));
  }

  /**
   * x [B, T, dim] → [B, T, dim]. `rope` holds the angles of the T positions (offset by the cache length when
   * decoding with `slot`), or is null for a model with learned positions (no rotation); with a slot, this call's keys
   * and values are written into the cache and attended by slot positions (lib/ops/slotAttention; with a window, a
   * shared-sequence cache then evicts the rows no later query can see; a row-mode cache evicts in
   * KVCache.evictOutside). Without a slot, `rowMask` [B, 1, T, S] (lab.model.rowMask, per-row positions) replaces the
   * causal/window mask.
   */
  apply(x: tf.Tensor3D, rope: RopeTables | null, slot?: CacheSlot, rowMask?: tf.Tensor4D): tf.Tensor3D {
    const [B, T, d] = x.shape;
    if (d !== this.dim)
      throw new Error(`CausalSelfAttention.apply(x): expected shape [B, T, ${this.dim}], got [${x.shape}]`);
    const { nHeads: H, nKVHeads: Hkv, headDim: dh, window } = this;
    return tf.tidy(() => {
      const n = H + 2 * Hkv;
      const qkv = this.wqkv.apply(tf.reshape(x, [B * T, d])) as tf.Tensor2D; // [N, n·dh]
      // Every head at once, [B, n, T, dh]; one token (decoding) needs no data movement, a reshape does.
      const all = (
        T === 1 ? tf.reshape(qkv, [B, n, 1, dh]) : tf.transpose(tf.reshape(qkv, [B, T, n, dh]), [0, 2, 1, 3])
      ) as tf.Tensor4D; // [B, n, T, dh]
      let q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D; // [B, H, T, dh], [B, Hkv, T, dh] ×2
      if (rope) {
        // The rope tables depend on the position only: queries and keys rotate in one call.
        const [qk, v0] = tf.split(all, [H + Hkv, Hkv], 1) as tf.Tensor4D[]; // [B, H + Hkv, T, dh], [B, Hkv, T, dh]
        [q, k] = tf.split(applyRope(qk, rope), [H, Hkv], 1) as tf.Tensor4D[];
        v = v0;
      } else {
        [q, k, v] = tf.split(all, [H, Hkv, Hkv], 1) as tf.Tensor4D[];
      }
      let mixed: tf.Tensor4D; // [B, H, T, dh]
      if (slot) {
        // Decoding: write into the cache's slot buffers, attend over the slots in use by their positions.
        const at = slotPositions(slot, B, T, window);
        const prefill = window && slot.cache.length === 0 && (slot.shared ?? !slot.cache.rowMode); // slots = k, v exactly
        const { parts } = slot.cache.appendSlots(slot.layer, { k, v }); // [B, Hkv, capacity, dh] each
        mixed = prefill // a windowed prompt: causalAttention's O(T·(window + global)) pass, not a [T, S] visibility scan
          ? causalAttention(q, k, v, { scale: this.scale, window: window.window, globalTokens: window.global })
          : slotAttention(q, parts.k, parts.v, at.query, at.keys, {
              scale: this.scale,
              window: window?.window,
              globalTokens: window?.global,
            });
        if (window && !slot.cache.rowMode) {
          const keep = windowKeep(slot.cache.length + T, window); // one shared sequence: evict here (rows: KVCache.evictOutside)
          slot.cache.keepEnds(slot.layer, keep.head, keep.tail);
        }
      } else if (rowMask) {
        mixed = attend(q, k, v, rowMask, this.scale);
      } else if (window) {
        mixed = causalAttention(q, k, v, { scale: this.scale, window: window.window, globalTokens: window.global }); // fused, O(T·(window + global))
      } else {
        mixed = causalAttention(q, k, v, { scale: this.scale }); // fused
      }
      const merged = tf.reshape(T === 1 ? mixed : tf.transpose(mixed, [0, 2, 1, 3]), [B * T, d]); // [N, d]
      return tf.reshape(this.wo.apply(merged), [B, T, d]) as tf.Tensor3D; // [B, T, d]
    });
  }
}
