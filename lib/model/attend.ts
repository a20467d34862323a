// Scaled dot-product attention of H query heads over Hkv ≤ H key/value heads (query head h reads kv head ⌊h·Hkv/H⌋,
// Hugging Face `repeat_kv`'s grouping, without materialising the repeats), and the causal mask. References: Vaswani
// et al. (2017); Ainslie et al., "GQA" (2023); Shazeer, "Fast Transformer Decoding" (MQA, 2019).
import * as tf from "@tensorflow/tfjs";

/** Additive score mask: 0 where a key is visible, this below-float32-range value where it is hidden. */
export const MASKED = -1e9;

/** [T, offset + T] additive causal mask: query t (at position offset + t) sees keys 0 … offset + t. */
export function causalMask(T: number, offset: number): tf.Tensor2D {
  const width = offset + T;
  const mask = new Float32Array(T * width);
  for (let t = 0; t < T; t++) mask.fill(MASKED, t * width + offset + t + 1, (t + 1) * width);
  return tf.tensor2d(mask, [T, width]);
}

/**
 * softmax(q·kᵀ·scale + mask)·v: q [B, H, T, dk], k [B, Hkv, S, dk], v [B, Hkv, S, dv] with Hkv dividing H,
 * mask additive [T, S] (shared by every row) or [B, 1, T, S] (per row, lab.model.rowMask) or null → [B, H, T, dv].
 */
export function attend(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor2D | tf.Tensor4D | null,
  scale: number,
): tf.Tensor4D {
  const [B, H, T, dk] = q.shape;
  const [Bk, Hkv, S, dk2] = k.shape;
  const dv = v.shape[3];
  if (Bk !== B || dk2 !== dk || H % Hkv || !tf.util.arraysEqual(v.shape.slice(0, 3), [B, Hkv, S])) {
    throw new Error(
      `attend(q, k, v): expected k [${B}, Hkv | ${H}, S, ${dk}] and v [${B}, Hkv, S, dv], got k [${k.shape}], v [${v.shape}]`,
    );
  }
  if (mask && !tf.util.arraysEqual(mask.shape, mask.rank === 4 ? [B, 1, T, S] : [T, S])) {
    throw new Error(`attend(mask): expected [${T}, ${S}] or [${B}, 1, ${T}, ${S}], got [${mask.shape}]`);
  }
  const g = H / Hkv;
  return tf.tidy(() => {
    const qg = g === 1 ? q : tf.reshape(q, [B, Hkv, g * T, dk]); // [B, Hkv, g·T, dk]
    let scores = tf.mul(tf.matMul(qg, k, false, true), scale); // [B, Hkv, g·T, S]
    if (g > 1) scores = tf.reshape(scores, [B, H, T, S]); // [B, H, T, S]
    if (mask) scores = tf.add(scores, mask);
    const p = tf.softmax(scores); // [B, H, T, S]
    const mixed = tf.matMul(g === 1 ? p : tf.reshape(p, [B, Hkv, g * T, S]), v); // [B, Hkv, g·T, dv]
    return tf.reshape(mixed, [B, H, T, dv]) as tf.Tensor4D; // [B, H, T, dv]
  });
}
