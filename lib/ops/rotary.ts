// Rotary position embedding as one fused, differentiable op: x [B, H, T, dh] rotated pairwise by cos/sin [T, dh/2]
// (or [B, 1, T, dh/2]: each sequence its own positions),
// pairs (i, i + dh/2) ("half") or (2i, 2i + 1) ("interleaved"). The native backend runs native/src/rotary.cc; other
// backends the composite (split, products, concat). The gradient in x is the inverse rotation (the same kernel by
// −angle); cos and sin get theirs from the composite formulas (tables are constants in the lab's models, so those run
// only if asked for). Reference: Su et al., "RoFormer" (2021); lib/model/rope.ts (tables, layouts).
import * as tf from "@tensorflow/tfjs";
import { ROTARY_KERNEL } from "../kernel-names";
import { hasFusedKernel } from "./fused";
import { ensureGradient } from "./registry";

/** Pairs of x [..., dh] as two [..., dh/2] tensors (a, b) in `layout`, and the inverse (a, b) → x. */
function pairs(x: tf.Tensor, interleaved: boolean): [tf.Tensor, tf.Tensor] {
  const dh = x.shape[x.rank - 1];
  if (!interleaved) return tf.split(x, 2, x.rank - 1) as [tf.Tensor, tf.Tensor];
  const [a, b] = tf.split(tf.reshape(x, [...x.shape.slice(0, -1), dh / 2, 2]), 2, x.rank); // [..., dh/2, 1] each
  return [tf.squeeze(a, [x.rank]), tf.squeeze(b, [x.rank])];
}
function unpair(a: tf.Tensor, b: tf.Tensor, interleaved: boolean): tf.Tensor {
  if (!interleaved) return tf.concat([a, b], a.rank - 1);
  const shape = [...a.shape.slice(0, -1), a.shape[a.rank - 1] * 2];
  return tf.reshape(tf.stack([a, b], a.rank), shape);
}

/** The composite: (a, b) → (a·cos − b·sin, b·cos + a·sin). */
function composite(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, interleaved: boolean): tf.Tensor {
  return tf.tidy(() => {
    const [a, b] = pairs(x, interleaved);
    return unpair(tf.sub(tf.mul(a, cos), tf.mul(b, sin)), tf.add(tf.mul(b, cos), tf.mul(a, sin)), interleaved);
  });
}

const rotaryGrad: tf.GradConfig = {
  kernelName: ROTARY_KERNEL,
  inputsToSave: ["x", "cos", "sin"],
  gradFunc: (dy, saved, attrs) => {
    const [x, cos, sin] = saved;
    const g = dy as tf.Tensor;
    const interleaved = attrs.interleaved as boolean;
    const perRow = cos.rank === 4; // [B, 1, T, dh/2]: the tables broadcast over H only
    const lead = perRow ? [1] : Array.from({ length: x.rank - 2 }, (_, i) => i); // the axes the tables broadcast over
    return {
      x: () =>
        tf.engine().runKernel(ROTARY_KERNEL, { x: g, cos, sin }, { interleaved, inverse: !attrs.inverse }) as tf.Tensor,
      cos: () => {
        const [a, b] = pairs(x, interleaved);
        const [ga, gb] = pairs(g, interleaved);
        return tf.sum(tf.add(tf.mul(a, ga), tf.mul(b, gb)), lead, perRow);
      },
      sin: () => {
        const [a, b] = pairs(x, interleaved);
        const [ga, gb] = pairs(g, interleaved);
        const s = tf.sub(tf.mul(a, gb), tf.mul(b, ga));
        return tf.sum(attrs.inverse ? tf.neg(s) : s, lead, perRow);
      },
    };
  },
};

/**
 * x [B, H, T, dh] (float32, dh even) rotated by cos, sin [T, dh/2] (every sequence) or [B, 1, T, dh/2] (each its
 * own); `interleaved` picks the pair layout.
 */
export function rotary(
  x: tf.Tensor4D,
  cos: tf.Tensor2D | tf.Tensor4D,
  sin: tf.Tensor2D | tf.Tensor4D,
  interleaved: boolean,
): tf.Tensor4D {
  const fn = "rotary";
  if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.dtype !== "float32" || x.shape[3] % 2)
    throw new Error(`${fn}(x): expected float32 [B, H, T, dh] with dh even, got ${x?.dtype} [${x?.shape}]`);
  const [B, , T, dh] = x.shape;
  for (const [name, t] of [
    ["cos", cos],
    ["sin", sin],
  ] as const) {
    const ok =
      t instanceof tf.Tensor &&
      t.dtype === "float32" &&
      (tf.util.arraysEqual(t.shape, [T, dh / 2]) || tf.util.arraysEqual(t.shape, [B, 1, T, dh / 2]));
    if (!ok)
      throw new Error(
        `${fn}(${name}): expected float32 [${T}, ${dh / 2}] or [${B}, 1, ${T}, ${dh / 2}], got ${t?.dtype} [${t?.shape}]`,
      );
  }
  if (cos.rank !== sin.rank)
    throw new Error(`${fn}(cos, sin): expected the same shape, got [${cos.shape}] and [${sin.shape}]`);
  ensureGradient(rotaryGrad);
  if (!hasFusedKernel(ROTARY_KERNEL)) return composite(x, cos, sin, interleaved) as tf.Tensor4D; // [B, H, T, dh]
  return tf.engine().runKernel(ROTARY_KERNEL, { x, cos, sin }, { interleaved, inverse: false }) as tf.Tensor4D; // [B, H, T, dh]
}
