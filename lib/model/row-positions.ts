// Per-sequence positions for a ragged batch: each row of a [B, T] step carries its own absolute positions (−1 marks a
// padding slot), so left-padded prompts, sequences that joined a batch late and junk slots left by other rows all
// attend exactly as they would alone. Keys are visible to a query iff both are real, the key is not later than the
// query, and (with a sliding window) inside its window. References: Hugging Face `attention_mask` + `position_ids`
// for batched generation; vLLM's per-sequence positions in a continuous batch.
import * as tf from "@tensorflow/tfjs";
import { MASKED } from "./attend";
import type { SlidingWindow } from "./sparse";

/** Marks a padding slot in a positions array. */
export const PAD_POSITION = -1;

/** Where the rows of one forward step sit: positions of the T new tokens and of all S keys each row attends over. */
export interface RowPositions {
  B: number;
  T: number;
  S: number;
  /** [B·T] absolute position of each new token (row-major), PAD_POSITION for padding. */
  query: Int32Array;
  /** [B·S] absolute position of each key slot (cached slots, then the T new ones), PAD_POSITION for padding. */
  keys: Int32Array;
}

/** Checks a [B·T] positions array: integers ≥ −1. */
export function checkPositions(fn: string, positions: Int32Array, B: number, T: number): void {
  if (positions.length !== B * T)
    throw new Error(`${fn}: positions must hold B·T = ${B * T} entries, got ${positions.length}`);
  for (let i = 0; i < positions.length; i++) {
    if (!(positions[i] >= PAD_POSITION))
      throw new Error(`${fn}: positions[${i}] must be ≥ 0 (or ${PAD_POSITION} for padding), got ${positions[i]}`);
  }
}

/** Positions with padding clamped to 0 (for gathering RoPE angles or learned position rows; the result is masked). */
export function clampedPositions(positions: Int32Array): Int32Array {
  return positions.map((p) => Math.max(p, 0));
}

/** [B, 1, T, S] additive mask: query (b, t) sees key (b, s) iff both are real, key ≤ query, and inside `window`. */
export function rowMask(rows: RowPositions, window: SlidingWindow | null): tf.Tensor4D {
  const { B, T, S, query, keys } = rows;
  const mask = new Float32Array(B * T * S).fill(MASKED);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const p = query[b * T + t];
      if (p < 0) continue;
      const base = (b * T + t) * S;
      for (let s = 0; s < S; s++) {
        const j = keys[b * S + s];
        if (j >= 0 && j <= p && (!window || p - j < window.window || j < window.global)) mask[base + s] = 0;
      }
    }
  }
  return tf.tensor4d(mask, [B, 1, T, S]);
}
