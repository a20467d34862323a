// Causal multi-head self-attention with RoPE on queries and keys and an optional KV cache. Reference: nanoGPT
// model.py `CausalSelfAttention` (fused qkv projection, no biases) with RoFormer's rotary positions.
import * as tf from "@tensorflow/tfjs";
import { Module } from "../nn/module";
import { Linear } from "../nn/linear";
import { checkPositiveInt } from "../check";
import { applyRope, RopeTables } from "./rope";
import { KVCache } from "./kv-cache";

/** Additive score mask: 0 where a key is visible, this below-float32-range value where it is in the future. */
const MASKED = -1e9;

/** [T, offset + T] additive causal mask: query t (at position offset + t) sees keys 0 … offset + t. */
export function causalMask(T: number, offset: number): tf.Tensor2D {
  const width = offset + T;
  const mask = new Float32Array(T * width);
  for (let t = 0; t < T; t++) mask.fill(MASKED, t * width + offset + t + 1, (t + 1) * width);
  return tf.tensor2d(mask, [T, width]);
}

/** Where attention reads and writes cached keys and values during incremental decoding. */
export interface CacheSlot {
  cache: KVCache;
  /** This attention layer's index in the cache. */
  layer: number;
}

export class CausalSelfAttention extends Module {
  readonly headDim: number;
  readonly wqkv: Linear; // [3·dim, dim]
  readonly wo: Linear; // [dim, dim]

  constructor(
    readonly dim: number,
    readonly nHeads: number,
  ) {
    super();
    checkPositiveInt("CausalSelfAttention", "dim", dim);
    checkPositiveInt("CausalSelfAttention", "nHeads", nHeads);
    if (dim % nHeads) throw new Error(`CausalSelfAttention: nHeads (${nHeads}) must divide dim (${dim})`);
    this.headDim = dim / nHeads;
    this.wqkv = this.child("wqkv", new Linear(dim, 3 * dim));
    this.wo = this.child("wo", new Linear(dim, dim));
  }

  /**
   * x [B, T, dim] → [B, T, dim]. `rope` holds the angles of the T positions (offset by the cache length when
   * decoding with `slot`), or is null for a model with learned positions (no rotation); with a slot, this call's keys
   * and values are appended to the cache.
   */
  apply(x: tf.Tensor3D, rope: RopeTables | null, slot?: CacheSlot): tf.Tensor3D {
    const [B, T, d] = x.shape;
    if (d !== this.dim) throw new Error(`CausalSelfAttention.apply(x): expected shape [B, T, ${this.dim}], got [${x.shape}]`);
    const H = this.nHeads;
    const dh = this.headDim;
    return tf.tidy(() => {
      const qkv = this.wqkv.apply(x) as tf.Tensor3D; // [B, T, 3d]
      const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, dh]
      const [q0, k0, v0] = tf.split(qkv, 3, 2).map(heads);
      const q = rope ? applyRope(q0, rope) : q0; // [B, H, T, dh]
      let k = rope ? applyRope(k0, rope) : k0; // [B, H, T, dh]
      let v = v0;
      const offset = slot ? slot.cache.length : 0;
      if (slot) ({ k, v } = slot.cache.append(slot.layer, k, v)); // [B, H, offset + T, dh]
      let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)); // [B, H, T, offset + T]
      if (T > 1) scores = tf.add(scores, causalMask(T, offset));
      const mixed = tf.matMul(tf.softmax(scores), v); // [B, H, T, dh]
      const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [B, T, d]); // [B, T, d]
      return this.wo.apply(merged) as tf.Tensor3D; // [B, T, d]
    });
  }
}
