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

/**
 * cos and sin of the rotation angles, each [T, dh/2] (consecutive positions shared by every row) or [B, 1, T, dh/2]
 * (per-row positions, rowRopeTables), and the layout to rotate in.
 */
export interface RopeTables {
  cos: tf.Tensor2D | tf.Tensor4D; // [T, dh/2] or [B, 1, T, dh/2]
  sin: tf.Tensor2D | tf.Tensor4D; // [T, dh/2] or [B, 1, T, dh/2]
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
export function ropeTables(
  start: number,
  length: number,
  headDim: number,
  theta: number,
  options: Partial<RopeOptions> = {},
): RopeTables {
  if (!Number.isSafeInteger(start) || start < 0)
    throw new Error(`ropeTables: start must be an integer ≥ 0, got ${start}`);
  checkPositiveInt("ropeTables", "length", length);
  const positions = Array.from({ length }, (_, t) => start + t);
  return angleTables("ropeTables", positions, [length], headDim, theta, options);
}

/**
 * Per-row tables [B, 1, T, dh/2] for the absolute positions [B·T] of a ragged batch (each entry an integer ≥ 0;
 * callers clamp padding to 0).
 */
export function rowRopeTables(
  positions: Int32Array,
  B: number,
  T: number,
  headDim: number,
  theta: number,
  options: Partial<RopeOptions> = {},
): RopeTables {
  if (positions.length !== B * T || B * T === 0)
    throw new Error(`rowRopeTables: positions must hold B·T = ${B * T} > 0 entries, got ${positions.length}`);
  positions.forEach((p, i) => {
    if (!(Number.isSafeInteger(p) && p >= 0))
      throw new Error(`rowRopeTables: positions[${i}] must be an integer ≥ 0, got ${p}`);
  });
  return angleTables("rowRopeTables", positions, [B, 1, T], headDim, theta, options);
}

/** cos/sin tables of shape [...lead, dh/2] for `positions` (row-major over lead). */
function angleTables(
  fn: string,
  positions: ArrayLike<number>,
  lead: number[],
  headDim: number,
  theta: number,
  options: Partial<RopeOptions>,
): RopeTables {
  const { layout, frequencies, amplitude } = { ...DEFAULT_ROPE, ...options };
  checkPositiveInt(fn, "headDim", headDim);
  if (headDim % 2) throw new Error(`${fn}: headDim must be even (features rotate in pairs), got ${headDim}`);
  if (!(Number.isFinite(theta) && theta > 1)) throw new Error(`${fn}: theta must be a finite number > 1, got ${theta}`);
  if (!ROPE_LAYOUTS.includes(layout))
    throw new Error(`${fn}: layout must be one of ${ROPE_LAYOUTS.join(", ")}, got ${String(layout)}`);
  const half = headDim / 2;
  if (frequencies && frequencies.length !== half)
    throw new Error(`${fn}: frequencies must hold headDim/2 = ${half} values, got ${frequencies.length}`);
  if (!(Number.isFinite(amplitude) && amplitude > 0))
    throw new Error(`${fn}: amplitude must be a finite number > 0, got ${amplitude}`);
  const n = positions.length;
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < half; i++) {
      const a = frequencies ? positions[t] * frequencies[i] : ropeAngle(positions[t], i, headDim, theta);
      cos[t * half + i] = amplitude * Math.cos(a);
      sin[t * half + i] = amplitude * Math.sin(a);
    }
  }
  const shape = [...lead, half];
  const make = (values: Float32Array) => tf.tensor(values, shape) as tf.Tensor as tf.Tensor2D | tf.Tensor4D; // [...lead, dh/2]
  return { cos: make(cos), sin: make(sin), layout };
}

/**
 * Rotates x [B, H, T, dh] by the tables [T, dh/2] or [B, 1, T, dh/2]: each pair (a, b) → (a·cos − b·sin, b·cos + a·sin), the pairs being
 * (i, i + dh/2) in the "half" layout and (2i, 2i + 1) in the "interleaved" one, through lab.ops rotary (one fused
 * kernel on native, for shared and for per-row tables alike).
 */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  const [B, , T, dh] = x.shape;
  const want = tables.cos.rank === 4 ? [B, 1, T, dh / 2] : [T, dh / 2];
  if (!tf.util.arraysEqual(tables.cos.shape, want) || !tf.util.arraysEqual(tables.sin.shape, want)) {
    throw new Error(
      `applyRope(x, tables): tables must be [${T}, ${dh / 2}] or [${B}, 1, ${T}, ${dh / 2}] for x [${x.shape}], got [${tables.cos.shape}]`,
    );
  }
  return rotary(x, tables.cos, tables.sin, tables.layout === "interleaved"); // [B, H, T, dh] (fused; per-row tables too)
}
