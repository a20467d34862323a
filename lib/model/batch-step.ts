// One batched forward step over ragged rows: each row feeds its own tokens (a prompt to prefill, a recomputed prefix,
// or one token to decode) starting at its own position; rows are left-padded to the longest feed within the step, so
// the last column holds every row's last real token. Reference: Hugging Face batched generation (left padding,
// attention_mask, position_ids); vLLM's mixed prefill/decode batches.
import * as tf from "@tensorflow/tfjs";
import type { KVCache } from "./kv-cache";
import { PAD_POSITION } from "./row-positions";
import type { TransformerLM } from "./transformer";

/** One row of a step: the tokens it feeds and the absolute position of the first of them. */
export interface StepRow {
  feed: readonly number[];
  start: number;
}

/** The model surface a batched step needs (a TransformerLM, or anything with its forward). */
export type StepModel = Pick<TransformerLM, "forward" | "config" | "newCache">;

/**
 * Runs rows (in cache row order) through model.forward with per-row positions and returns each row's next-token
 * logits (a copy, [V] each). With a cache (row mode) the fed tokens are appended to it; the cache's rows must already
 * match rows.length (KVCache.addRows for newcomers).
 */
export function forwardRows(model: StepModel, rows: readonly StepRow[], cache?: KVCache): Float32Array[] {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.feed.length));
  const ids = new Int32Array(B * T);
  const positions = new Int32Array(B * T).fill(PAD_POSITION);
  rows.forEach((r, b) => {
    const pad = T - r.feed.length;
    r.feed.forEach((tok, i) => {
      ids[b * T + pad + i] = tok;
      positions[b * T + pad + i] = r.start + i;
    });
  });
  const last = tf.tidy(() => {
    const logits = model.forward(tf.tensor2d(ids, [B, T], "int32"), cache, positions).logits; // [B, T, V]
    return T === 1 ? logits : tf.slice(logits, [0, T - 1, 0], [B, 1, -1]); // [B, 1, V]
  });
  const values = last.dataSync() as Float32Array;
  const V = last.shape[2];
  last.dispose();
  return rows.map((_, b) => values.slice(b * V, (b + 1) * V));
}
