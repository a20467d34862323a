// Sparse attention as local + global (Longformer / BigBird style, the articles' "sliding window plus a few global
// tokens"): the query at position p sees key j iff j ≤ p and (p − j < window or j < global). The KV cache keeps only
// the global rows and the last window − 1 rows, and a full pass runs in query chunks of `window` rows, each against at
// most global + 2·window keys, so memory and compute grow linearly with the length (windowedAttention: the composite
// reference; the model's training pass runs lab.ops causalAttention, which scores only the visible keys). References: Beltagy et al.,
// "Longformer" (2020); Zaheer et al., "BigBird" (2020); Mistral's sliding-window rolling cache.
import * as tf from "@tensorflow/tfjs";
import { attend, MASKED } from "./attend";

/** A sliding local window plus global tokens. */
export interface SlidingWindow {
  /** Positions each query sees back to, itself included (p − window < j ≤ p). */
  window: number;
  /** The first `global` positions, which every later query sees. */
  global: number;
}

/** Rows a sliding-window cache keeps after n positions: the first min(global, n), then the last min(window − 1, n − head). */
export function windowKeep(n: number, w: SlidingWindow): { head: number; tail: number } {
  const head = Math.min(w.global, n);
  return { head, tail: Math.min(w.window - 1, n - head) };
}

/** The absolute positions of those rows, in order. */
export function keptPositions(n: number, w: SlidingWindow): number[] {
  const { head, tail } = windowKeep(n, w);
  return [...Array.from({ length: head }, (_, i) => i), ...Array.from({ length: tail }, (_, i) => n - tail + i)];
}

/** [T, S] additive mask of the queries at positions start … start + T − 1 over keys at `keyPositions`. */
export function windowMask(start: number, T: number, keyPositions: readonly number[], w: SlidingWindow): tf.Tensor2D {
  const S = keyPositions.length;
  const mask = new Float32Array(T * S);
  for (let t = 0; t < T; t++) {
    const p = start + t;
    keyPositions.forEach((j, s) => {
      if (!(j <= p && (p - j < w.window || j < w.global))) mask[t * S + s] = MASKED;
    });
  }
  return tf.tensor2d(mask, [T, S]);
}

/**
 * Causal local + global attention over a whole sequence: q [B, H, T, dk], k [B, Hkv, T, dk], v [B, Hkv, T, dv] →
 * [B, H, T, dv], in chunks of `window` queries that each read the kept rows before the chunk and the chunk itself.
 */
export function windowedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  w: SlidingWindow,
  scale: number,
): tf.Tensor4D {
  const [B, , T] = q.shape;
  const [, Hkv, , dk] = k.shape;
  const dv = v.shape[3];
  return tf.tidy(() => {
    const rows = (t: tf.Tensor4D, from: number, n: number, width: number) =>
      tf.slice(t, [0, 0, from, 0], [B, Hkv, n, width]); // [B, Hkv, n, width]
    const outs: tf.Tensor4D[] = [];
    for (let s = 0; s < T; s += w.window) {
      const n = Math.min(w.window, T - s);
      const { head, tail } = windowKeep(s, w);
      const pick = (t: tf.Tensor4D, width: number) => {
        const recent = rows(t, s - tail, tail + n, width); // [B, Hkv, tail + n, width]
        return (head ? tf.concat([rows(t, 0, head, width), recent], 2) : recent) as tf.Tensor4D; // [B, Hkv, head + tail + n, width]
      };
      const qc = tf.slice(q, [0, 0, s, 0], [B, q.shape[1], n, dk]) as tf.Tensor4D; // [B, H, n, dk]
      const mask = windowMask(s, n, [...keptPositions(s, w), ...Array.from({ length: n }, (_, i) => s + i)], w); // [n, head + tail + n]
      outs.push(attend(qc, pick(k, dk), pick(v, dv), mask, scale)); // [B, H, n, dv]
    }
    return (outs.length === 1 ? outs[0] : tf.concat(outs, 2)) as tf.Tensor4D; // [B, H, T, dv]
  });
}
