// Rotary position embedding (RoPE), rotate-half convention. Reference: Su et al., "RoFormer" (2021); the rotate-half
// layout of GPT-NeoX and Hugging Face LLaMA: feature i is paired with feature i + dh/2 (not with i + 1 as in the
// interleaved layout of the paper and DeepSeek-V3 model.py's complex view). The two layouts differ only by a fixed
// permutation of the q/k features, which the learned projections absorb: they train identically.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";

/** cos and sin of the rotation angles pos · θ^(−2i/dh) for consecutive positions, each [T, dh/2]. */
export interface RopeTables {
  cos: tf.Tensor2D; // [T, dh/2]
  sin: tf.Tensor2D; // [T, dh/2]
}

/** Angle of pair i at position `pos`: pos · θ^(−2i/headDim), in float64. */
export function ropeAngle(pos: number, i: number, headDim: number, theta: number): number {
  return pos * Math.pow(theta, (-2 * i) / headDim);
}

/** Tables for positions start … start + length − 1 (angles in float64, stored as float32). */
export function ropeTables(start: number, length: number, headDim: number, theta: number): RopeTables {
  const fn = "ropeTables";
  if (!Number.isSafeInteger(start) || start < 0) throw new Error(`${fn}: start must be an integer ≥ 0, got ${start}`);
  checkPositiveInt(fn, "length", length);
  checkPositiveInt(fn, "headDim", headDim);
  if (headDim % 2) throw new Error(`${fn}: headDim must be even (features rotate in pairs), got ${headDim}`);
  if (!(Number.isFinite(theta) && theta > 1)) throw new Error(`${fn}: theta must be a finite number > 1, got ${theta}`);
  const half = headDim / 2;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const a = ropeAngle(start + t, i, headDim, theta);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos: tf.tensor2d(cos, [length, half]), sin: tf.tensor2d(sin, [length, half]) };
}

/** Rotates x [B, H, T, dh] by the tables [T, dh/2]: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin). */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  const [, , T, dh] = x.shape;
  if (!tf.util.arraysEqual(tables.cos.shape, [T, dh / 2]) || !tf.util.arraysEqual(tables.sin.shape, [T, dh / 2])) {
    throw new Error(`applyRope(x, tables): tables must be [${T}, ${dh / 2}] for x [${x.shape}], got [${tables.cos.shape}]`);
  }
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, 3); // [B, H, T, dh/2] each
    const r1 = tf.sub(tf.mul(x1, tables.cos), tf.mul(x2, tables.sin)); // [B, H, T, dh/2]
    const r2 = tf.add(tf.mul(x2, tables.cos), tf.mul(x1, tables.sin)); // [B, H, T, dh/2]
    return tf.concat([r1, r2], 3) as tf.Tensor4D; // [B, H, T, dh]
  });
}
