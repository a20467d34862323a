// Sparse attention as local + global (Longformer / BigBird style, the articles' "sliding window plus a few global
// tokens"): the query at position p sees key j iff j ≤ p and (p − j < window or j < global). The KV cache keeps only
// the global rows and the last window − 1 rows; a full pass (training, prefill) scores each block of `window` queries
// against the global keys and a band of 2·window keys (windowedAttention), so memory and compute grow linearly with
// the length. windowedAttention is lab.ops causalAttention's composite for a window (the native kernel scores only the
// visible key ranges itself). References: Beltagy et al., "Longformer" (2020), banded chunks; Zaheer et al.,
// "BigBird" (2020), blocked local + global attention; Mistral's sliding-window rolling cache.
import * as tf from "@tensorflow/tfjs";
import { MASKED } from "./attend";

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

/** Scores windowedAttention computes per (batch row, query head) for T queries over S keys: ⌈T/window⌉·window·(global + 2·window). */
export function bandedScores(T: number, window: number, global: number, S: number): number {
  return Math.ceil(T / window) * window * (Math.min(global, S) + 2 * window);
}

/**
 * Causal local + global attention over a whole sequence in O(T·(window + global)): q [B, H, T, dk], k [B, Hkv, S, dk],
 * v [B, Hkv, S, dv] (Hkv dividing H; query t at position kOffset + t, key j at j; default kOffset = S − T) → [B, H, T,
 * dv]. Queries run in blocks of `window`; block i scores the `global` first keys and a band of 2·window keys (the
 * block before it and its own), so no [T, S] tensor is built. Inside the band a key is visible by the window rule,
 * among the global keys only when the band does not already hold it (p − j ≥ window), so each visible key is counted
 * once. Built from tfjs ops (slice, pad, concat, matMul, softmax): differentiable on every backend.
 */
export function windowedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  w: SlidingWindow,
  scale: number,
  kOffset?: number,
): tf.Tensor4D {
  const [B, H, T, dk] = q.shape;
  const [, Hkv, S] = k.shape;
  const dv = v.shape[3];
  const off = kOffset ?? S - T;
  if (!(Number.isSafeInteger(w.window) && w.window >= 1 && Number.isSafeInteger(w.global) && w.global >= 0))
    throw new Error(`windowedAttention(w): expected window ≥ 1 and global ≥ 0 integers, got ${JSON.stringify(w)}`);
  if (k.shape[0] !== B || k.shape[3] !== dk || H % Hkv || !tf.util.arraysEqual(v.shape.slice(0, 3), [B, Hkv, S]))
    throw new Error(
      `windowedAttention(q, k, v): expected k [${B}, Hkv | ${H}, S, ${dk}] and v [${B}, Hkv, S, dv], got k [${k.shape}], v [${v.shape}]`,
    );
  if (!(Number.isSafeInteger(off) && off >= 0 && off + T <= S))
    throw new Error(`windowedAttention(kOffset): expected an integer in [0, S − T = ${S - T}], got ${kOffset}`);
  const b = w.window; // block length = window: a block's visible window lies in its own and the previous key block
  const nb = Math.ceil(T / b); // query blocks
  const g = H / Hkv; // query heads per kv head
  const G = Math.min(w.global, S); // global keys
  const C = G + 2 * b; // keys scored per query (nb·b·C = bandedScores(T, window, global, S))
  return tf.tidy(() => {
    const qp =
      nb * b === T
        ? q
        : tf.pad(q, [
            [0, 0],
            [0, 0],
            [0, nb * b - T],
            [0, 0],
          ]); // [B, H, nb·b, dk]
    const qg = tf.reshape(qp, [B * Hkv, g, nb, b * dk]); // [B·Hkv, g, nb, b·dk]
    const qb = tf.reshape(tf.transpose(qg, [0, 2, 1, 3]), [B * Hkv * nb, g * b, dk]); // [B·Hkv·nb, g·b, dk]
    // Band rows: the keys at positions off − b … off + nb·b − 1 (zeros outside [0, S)), as nb overlapping pairs of blocks.
    const from = Math.max(0, off - b);
    const padL = Math.max(0, b - off);
    const band = (t: tf.Tensor4D, width: number) => {
      const rows = tf.slice(t, [0, 0, from, 0], [B, Hkv, S - from, width]); // [B, Hkv, S − from, width]
      const padded = tf.pad(rows, [
        [0, 0],
        [0, 0],
        [padL, (nb + 1) * b - padL - (S - from)],
        [0, 0],
      ]); // [B, Hkv, (nb + 1)·b, width]
      const blocks = tf.reshape(padded, [B * Hkv, nb + 1, b, width]); // [B·Hkv, nb + 1, b, width]
      const pair = tf.concat(
        [
          tf.slice(blocks, [0, 0, 0, 0], [B * Hkv, nb, b, width]),
          tf.slice(blocks, [0, 1, 0, 0], [B * Hkv, nb, b, width]),
        ],
        2,
      ); // [B·Hkv, nb, 2b, width]
      return tf.reshape(pair, [B * Hkv * nb, 2 * b, width]); // [B·Hkv·nb, 2b, width]
    };
    const heads = (t: tf.Tensor4D, width: number) =>
      tf.reshape(tf.slice(t, [0, 0, 0, 0], [B, Hkv, G, width]), [B * Hkv, G, width]); // [B·Hkv, G, width]
    const local = tf.matMul(qb, band(k, dk), false, true); // [B·Hkv·nb, g·b, 2b]
    const global = G
      ? tf.reshape(tf.matMul(tf.reshape(qb, [B * Hkv, nb * g * b, dk]), heads(k, dk), false, true), [
          B * Hkv * nb,
          g * b,
          G,
        ])
      : null; // [B·Hkv·nb, g·b, G]
    const scores = tf.mul(global ? tf.concat([global, local], 2) : local, scale); // [B·Hkv·nb, g·b, C]
    const masked = tf.add(tf.reshape(scores, [B * Hkv, nb, g, b * C]), bandMask(nb, b, G, off, S, w.window)); // [B·Hkv, nb, g, b·C]
    const p = tf.softmax(tf.reshape(masked, [B * Hkv * nb, g * b, C])); // [B·Hkv·nb, g·b, C]
    let mixed = tf.matMul(G ? tf.slice(p, [0, 0, G], [B * Hkv * nb, g * b, 2 * b]) : p, band(v, dv)); // [B·Hkv·nb, g·b, dv]
    if (G) {
      const pg = tf.reshape(tf.slice(p, [0, 0, 0], [B * Hkv * nb, g * b, G]), [B * Hkv, nb * g * b, G]); // [B·Hkv, nb·g·b, G]
      mixed = tf.add(mixed, tf.reshape(tf.matMul(pg, heads(v, dv)), [B * Hkv * nb, g * b, dv])); // [B·Hkv·nb, g·b, dv]
    }
    const back = tf.transpose(tf.reshape(mixed, [B * Hkv, nb, g, b * dv]), [0, 2, 1, 3]); // [B·Hkv, g, nb, b·dv]
    const out = tf.reshape(back, [B, H, nb * b, dv]); // [B, H, nb·b, dv]
    return (nb * b === T ? out : tf.slice(out, [0, 0, 0, 0], [B, H, T, dv])) as tf.Tensor4D; // [B, H, T, dv]
  });
}

/**
 * windowedAttention's additive mask [nb, 1, b·(G + 2b)]: block i's query r (position off + i·b + r) over the G global
 * keys (visible iff j ≤ p and p − j ≥ window: the band holds the others) and the band's 2b keys (position
 * off − b + i·b + c; visible iff 0 ≤ j < S, j ≤ p and p − j < window). O(T·(window + global)) entries.
 */
function bandMask(nb: number, b: number, G: number, off: number, S: number, window: number): tf.Tensor3D {
  const C = G + 2 * b;
  const mask = new Float32Array(nb * b * C).fill(MASKED);
  for (let i = 0; i < nb; i++)
    for (let r = 0; r < b; r++) {
      const p = off + i * b + r;
      const row = (i * b + r) * C;
      for (let j = 0; j < G; j++) if (j <= p && p - j >= window) mask[row + j] = 0;
      for (let c = 0; c < 2 * b; c++) {
        const j = off - b + i * b + c;
        if (j >= 0 && j < S && j <= p && p - j < window) mask[row + G + c] = 0;
      }
    }
  return tf.tensor3d(mask, [nb, 1, b * C]);
}
