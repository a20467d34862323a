// Rotary position embedding (RoPE) in both pair layouts. Reference: Su et al., "RoFormer" (2021). "half" is the
// rotate-half layout of GPT-NeoX and Hugging Face LLaMA (feature i pairs with i + dh/2); "interleaved" is the paper's
// and DeepSeek-V3 inference/model.py `apply_rotary_emb` layout (features 2i, 2i+1 as one complex number). The two
// differ only by a fixed permutation of the q/k features, which learned projections absorb: they train identically,
// but a checkpoint's weights only fit the layout it was trained with.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../check";
import { rotary } from "../ops/rotary";

/** Which features rotate together: "half" (i, i + dh/2) or "interleaved" (2i, 2i + 1). */
export type RopeLayout = "half" | "interleaved";

/** The layouts, for config checks. */
export const ROPE_LAYOUTS: readonly RopeLayout[] = Object.freeze(["half", "interleaved"] as RopeLayout[]);

/** cos and sin of the rotation angles for consecutive positions, each [T, dh/2], and the layout to rotate in. */
export interface RopeTables {
  cos: tf.Tensor2D; // [T, dh/2]
  sin: tf.Tensor2D; // [T, dh/2]
  layout: RopeLayout;
}

/** Options of ropeTables beyond plain RoPE. */
export interface RopeOptions {
  /** Pair layout. Default "half". */
  layout: RopeLayout;
  /** Inverse frequency of each of the dh/2 pairs (e.g. lab.model.yarnFrequencies); null = θ^(−2i/dh). Default null. */
  frequencies: Float64Array | null;
  /** Factor on cos and sin (YaRN's cos/sin mscale ratio). Default 1. */
  amplitude: number;
}

export const DEFAULT_ROPE: Readonly<RopeOptions> = Object.freeze({ layout: "half", frequencies: null, amplitude: 1 });

/** Angle of pair i at position `pos`: pos · θ^(−2i/headDim), in float64. */
export function ropeAngle(pos: number, i: number, headDim: number, theta: number): number {
  return pos * Math.pow(theta, (-2 * i) / headDim);
}

/** Tables for positions start … start + length − 1 (angles in float64, stored as float32). */
export function ropeTables(start: number, length: number, headDim: number, theta: number, options: Partial<RopeOptions> = {}): RopeTables {
  const fn = "ropeTables";
  const { layout, frequencies, amplitude } = { ...DEFAULT_ROPE, ...options };
  if (!Number.isSafeInteger(start) || start < 0) throw new Error(`${fn}: start must be an integer ≥ 0, got ${start}`);
  checkPositiveInt(fn, "length", length);
  checkPositiveInt(fn, "headDim", headDim);
  if (headDim % 2) throw new Error(`${fn}: headDim must be even (features rotate in pairs), got ${headDim}`);
  if (!(Number.isFinite(theta) && theta > 1)) throw new Error(`${fn}: theta must be a finite number > 1, got ${theta}`);
  if (!ROPE_LAYOUTS.includes(layout)) throw new Error(`${fn}: layout must be one of ${ROPE_LAYOUTS.join(", ")}, got ${String(layout)}`);
  const half = headDim / 2;
  if (frequencies && frequencies.length !== half) throw new Error(`${fn}: frequencies must hold headDim/2 = ${half} values, got ${frequencies.length}`);
  if (!(Number.isFinite(amplitude) && amplitude > 0)) throw new Error(`${fn}: amplitude must be a finite number > 0, got ${amplitude}`);
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const a = frequencies ? (start + t) * frequencies[i] : ropeAngle(start + t, i, headDim, theta);
      cos[t * half + i] = amplitude * Math.cos(a);
      sin[t * half + i] = amplitude * Math.sin(a);
    }
  }
  return { cos: tf.tensor2d(cos, [length, half]), sin: tf.tensor2d(sin, [length, half]), layout };
}

/**
 * Rotates x [B, H, T, dh] by the tables [T, dh/2]: each pair (a, b) → (a·cos − b·sin, b·cos + a·sin), the pairs being
 * (i, i + dh/2) in the "half" layout and (2i, 2i + 1) in the "interleaved" one (lab.ops rotary: fused on native).
 */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  const [, , T, dh] = x.shape;
  if (!tf.util.arraysEqual(tables.cos.shape, [T, dh / 2]) || !tf.util.arraysEqual(tables.sin.shape, [T, dh / 2])) {
    throw new Error(`applyRope(x, tables): tables must be [${T}, ${dh / 2}] for x [${x.shape}], got [${tables.cos.shape}]`);
  }
  return rotary(x, tables.cos, tables.sin, tables.layout === "interleaved"); // [B, H, T, dh] (one fused kernel on native)
}
