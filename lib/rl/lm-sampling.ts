// Language-model policy helpers for RL: per-token log-probabilities of given completions (teacher forcing) and
// batched sampling of completions with a KV cache, stopping each row at its end token. Reference: TRL GRPOTrainer
// `_get_per_token_logps` (log-softmax of the logits that predict each completion token) and completion masks
// (tokens after the first EOS are padding).
import * as tf from "@tensorflow/tfjs";
import { cancelled, throwIfCancelled } from "../cancel";
import { checkPositiveInt } from "../check";
import { SampleConfig, sampleToken } from "../model/generate";
import type { TransformerLM } from "../model/transformer";
import { Rng } from "../random";

/** Per-token log-probabilities and the logits they come from. */
export interface TokenLogProbs {
  /** log π(tokens[:, t] | tokens[:, < t]) for t = from … T − 1 [B, T − from]. */
  logProbs: tf.Tensor2D;
  /** The logits that predict those tokens (positions from − 1 … T − 2) [B, T − from, V]. */
  logits: tf.Tensor3D;
}

/** Log-probabilities of tokens[:, from:] under `model` given everything before them (one forward pass). */
export function tokenLogProbs(model: TransformerLM, tokens: tf.Tensor2D, from: number): TokenLogProbs {
  const [b, t] = tokens.shape;
  if (!(Number.isSafeInteger(from) && from >= 1 && from < t)) {
    throw new Error(
      `tokenLogProbs(model, tokens, from): from must be an integer in [1, ${t}) for tokens [${b}, ${t}], got ${from}`,
    );
  }
  return tf.tidy(() => {
    const v = model.config.vocabSize;
    const m = t - from;
    const all = model.forward(tf.slice(tokens, [0, 0], [b, t - 1]) as tf.Tensor2D).logits; // [B, T − 1, V]
    const logits = tf.slice(all, [0, from - 1, 0], [b, m, v]) as tf.Tensor3D; // [B, M, V]
    const targets = tf.slice(tokens, [0, from], [b, m]); // [B, M]
    const pick = tf.cast(tf.equal(tf.expandDims(targets, 2), tf.range(0, v, 1, "int32")), "float32"); // [B, M, V]
    const logProbs = tf.sum(tf.mul(tf.logSoftmax(logits), pick), 2) as tf.Tensor2D; // [B, M]
    return { logProbs, logits };
  });
}

/** Completions sampled for a batch of prompts. */
export interface Completions {
  /** Prompt + completion ids, row-major [B, P + M]; rows that ended early are padded with the end token. */
  tokens: Int32Array;
  /** 1 for completion tokens up to and including the first end token, 0 after it [B, M]. */
  mask: Float32Array;
  /** Each row's completion ids (up to and including its end token, or M tokens if it never ended). */
  completions: number[][];
}

/**
 * Samples up to `maxNewTokens` tokens after each prompt (all prompts the same length), all rows in one batch with a
 * KV cache; a row stops at `endId`. Draws from `rng` with lab.model's sampleToken (temperature 0 = greedy).
 */
export function sampleCompletions(
  model: TransformerLM,
  prompts: readonly ArrayLike<number>[],
  maxNewTokens: number,
  endId: number,
  sample: Partial<SampleConfig>,
  rng: Rng,
): Completions {
  const fn = "sampleCompletions(model, prompts, maxNewTokens)";
  if (prompts.length === 0) throw new Error(`${fn}: prompts is empty; expected at least one prompt`);
  checkPositiveInt(fn, "maxNewTokens", maxNewTokens);
  const b = prompts.length;
  const p = prompts[0].length;
  const bad = prompts.findIndex((row) => row.length !== p);
  if (bad >= 0)
    throw new Error(
      `${fn}: prompts[${bad}] has ${prompts[bad].length} tokens, prompts[0] has ${p}; all must be equally long`,
    );
  const width = p + maxNewTokens;
  const tokens = new Int32Array(b * width).fill(endId);
  prompts.forEach((row, i) => tokens.set(Array.from(row), i * width));
  const mask = new Float32Array(b * maxNewTokens);
  const completions: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(b).fill(false);
  const cache = model.newCache();
  try {
    let feed = tf.tensor2d(
      tokens.filter((_, k) => k % width < p),
      [b, p],
      "int32",
    ); // [B, P]
    for (let step = 0; step < maxNewTokens && done.includes(false); step++) {
      if (cancelled()) break; // interrupted: stop between tokens, free the feed, throw below
      const last = tf.tidy(() => {
        const logits = model.forward(feed, cache).logits; // [B, T, V]
        const [, t, v] = logits.shape;
        return tf.reshape(tf.slice(logits, [0, t - 1, 0], [b, 1, v]), [b, v]); // [B, V]
      });
      feed.dispose();
      const rows = last.dataSync();
      const v = model.config.vocabSize;
      last.dispose();
      const next = new Int32Array(b).fill(endId);
      for (let i = 0; i < b; i++) {
        if (done[i]) continue;
        next[i] = sampleToken(rows.subarray(i * v, (i + 1) * v), sample, rng);
        tokens[i * width + p + step] = next[i];
        mask[i * maxNewTokens + step] = 1;
        completions[i].push(next[i]);
        done[i] = next[i] === endId;
      }
      feed = tf.tensor2d(next, [b, 1], "int32"); // [B, 1]
    }
    feed.dispose();
  } finally {
    cache.dispose();
  }
  throwIfCancelled("sampleCompletions");
  return { tokens, mask, completions };
}
