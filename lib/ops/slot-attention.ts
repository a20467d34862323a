// Decode attention over a KV cache's slot buffers: softmax(q·kᵀ·scale + visibility)·v where k and v are buffers with
// room for more slots than are in use (lib/model/kv-cache.ts writes new entries into them in place), only the first S
// slots are read, and visibility comes from per-row positions: the query at position p (−1 = padding) sees slot s
// iff its key position j = keyPositions[b, s] is ≥ 0, j ≤ p and, with a window w, p − j < w or j < globalTokens
// (lib/model/sparse.ts's rule). A query that sees no key gives zeros. The native backend runs
// native/src/slot_attention.cc (no mask tensor, no copy of the cache); other backends run the composite: the first S
// slots sliced out, the rule as an additive mask, lib/model/attend.ts's attend(). Forward only (decoding).
// Reference: vLLM's paged-attention decode (per-sequence context over a block table), here one slot range per row.
import * as tf from "@tensorflow/tfjs";
import { SLOT_ATTENTION_KERNEL, type SlotAttentionAttrs } from "../kernel-names";
import { attend, MASKED } from "../model/attend";
import { hasFusedKernel } from "./fused";
import { checkAttentionTensors } from "./causal-attention";

/** How slotAttention reads the buffers and masks. */
export interface SlotAttentionOptions {
  /** Softmax scale (usually 1/√dk). */
  scale: number;
  /** Value columns read: the first dv of v's width (MLA absorbed: the latent before the rope key). Default v's width. */
  dv?: number;
  /** Sliding local window (the query at p sees keys p − window < j ≤ p); null/0 = full causal. Default null. */
  window?: number | null;
  /** With a window, keys at positions < globalTokens stay visible to every later query. Default 0. */
  globalTokens?: number;
}

/**
 * q [B, H, T, dk], k [B, Hkv, cap, kw ≥ dk] (key columns [0, dk) read), v [B, Hkv, cap, vw], queryPositions [B, T]
 * and keyPositions [B, S ≤ cap] int32 → [B, H, T, dv]. Hkv divides H (query head h reads kv head ⌊h·Hkv/H⌋).
 */
export function slotAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  queryPositions: tf.Tensor2D,
  keyPositions: tf.Tensor2D,
  options: SlotAttentionOptions,
): tf.Tensor4D {
  const fn = "slotAttention";
  checkAttentionTensors(fn, q, k, v);
  const [B, H, T, dk] = q.shape;
  const [, Hkv, cap, kw] = k.shape;
  if (k.shape[0] !== B || kw < dk || H % Hkv !== 0)
    throw new Error(`${fn}(k): expected [${B}, Hkv dividing ${H}, cap, width ≥ ${dk}], got [${k.shape}]`);
  if (v.shape[0] !== B || v.shape[1] !== Hkv || v.shape[2] !== cap)
    throw new Error(`${fn}(v): expected [${B}, ${Hkv}, ${cap}, width], got [${v.shape}]`);
  if (queryPositions.rank !== 2 || queryPositions.dtype !== "int32" || queryPositions.shape.join() !== `${B},${T}`)
    throw new Error(
      `${fn}(queryPositions): expected int32 [${B}, ${T}], got ${queryPositions.dtype} [${queryPositions.shape}]`,
    );
  const S = keyPositions.shape[1];
  if (keyPositions.rank !== 2 || keyPositions.dtype !== "int32" || keyPositions.shape[0] !== B || S > cap)
    throw new Error(
      `${fn}(keyPositions): expected int32 [${B}, S ≤ ${cap}], got ${keyPositions.dtype} [${keyPositions.shape}]`,
    );
  const { scale } = options;
  if (!(Number.isFinite(scale) && scale > 0))
    throw new Error(`${fn}(options.scale): expected a finite number > 0, got ${scale}`);
  const dv = options.dv ?? v.shape[3];
  if (!(Number.isSafeInteger(dv) && dv >= 1 && dv <= v.shape[3]))
    throw new Error(`${fn}(options.dv): expected an integer in [1, ${v.shape[3]}], got ${options.dv}`);
  const window = options.window ?? 0;
  if (!(Number.isSafeInteger(window) && window >= 0))
    throw new Error(`${fn}(options.window): expected a positive integer or null, got ${options.window}`);
  const globalTokens = options.globalTokens ?? 0;
  if (!(Number.isSafeInteger(globalTokens) && globalTokens >= 0))
    throw new Error(`${fn}(options.globalTokens): expected an integer ≥ 0, got ${options.globalTokens}`);
  const attrs: SlotAttentionAttrs = { scale, dv, window, globalTokens };
  if (hasFusedKernel(SLOT_ATTENTION_KERNEL))
    return tf
      .engine()
      .runKernel(SLOT_ATTENTION_KERNEL, { q, k, v, queryPositions, keyPositions }, attrs) as tf.Tensor4D; // [B, H, T, dv]
  return tf.tidy(() => {
    const keys = tf.slice(k, [0, 0, 0, 0], [B, Hkv, S, dk]) as tf.Tensor4D; // [B, Hkv, S, dk]
    const values = tf.slice(v, [0, 0, 0, 0], [B, Hkv, S, dv]) as tf.Tensor4D; // [B, Hkv, S, dv]
    const p = tf.reshape(queryPositions, [B, 1, T, 1]); // [B, 1, T, 1]
    const j = tf.reshape(keyPositions, [B, 1, 1, S]); // [B, 1, 1, S]
    let seen = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(j, 0), tf.greaterEqual(p, 0)), tf.lessEqual(j, p)); // [B, 1, T, S]
    if (window > 0) seen = tf.logicalAnd(seen, tf.logicalOr(tf.less(tf.sub(p, j), window), tf.less(j, globalTokens)));
    const mask = tf.where(seen, tf.zeros([B, 1, T, S]), tf.fill([B, 1, T, S], MASKED)) as tf.Tensor4D; // [B, 1, T, S]
    const anySeen = tf.cast(tf.any(seen, 3, true), "float32"); // [B, 1, T, 1]: 0 for a query that sees nothing
    return tf.mul(attend(q, keys, values, mask, scale), anySeen) as tf.Tensor4D; // [B, H, T, dv]
  });
}
