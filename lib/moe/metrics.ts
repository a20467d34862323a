// Routing metrics: per-expert load, MaxVio (DeepSeek-V3 §4.5: max load / mean load − 1), coefficient of variation,
// load entropy, dropped-token fraction; and the mean per-token router entropy.
import * as tf from "@tensorflow/tfjs";
import { normalizeScores } from "./balance";

/** Balance of one step's load. */
export interface LoadMetrics {
  /** Tokens per expert. */
  load: number[];
  /** max(load) / mean(load) − 1 (0 = perfectly balanced). */
  maxVio: number;
  /** Standard deviation / mean of the load (population std). */
  cv: number;
  /** Entropy of the load distribution, nats (ln E = perfectly balanced). */
  entropy: number;
  /** Share of selected (token, expert) pairs dropped by capacity. */
  droppedFraction: number;
}

/** Metrics of a load vector; `dropped` of `selected` pairs did not fit (default none). */
export function loadMetrics(load: ArrayLike<number>, dropped = 0, selected = 0): LoadMetrics {
  const values = Array.from(load);
  const E = values.length;
  if (E === 0) throw new Error("moe.loadMetrics: load must have at least one expert");
  if (values.some((v) => !(Number.isFinite(v) && v >= 0)))
    throw new Error("moe.loadMetrics: load must be finite numbers ≥ 0");
  if (!(dropped >= 0 && dropped <= selected)) {
    throw new Error(`moe.loadMetrics: dropped must be in [0, selected = ${selected}], got ${dropped}`);
  }
  const total = values.reduce((a, b) => a + b, 0);
  const mean = total / E;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / E;
  const entropy = total > 0 ? values.reduce((a, v) => (v > 0 ? a + (v / total) * Math.log(total / v) : a), 0) : 0;
  return {
    load: values,
    maxVio: mean > 0 ? Math.max(...values) / mean - 1 : 0,
    cv: mean > 0 ? Math.sqrt(variance) / mean : 0,
    entropy,
    droppedFraction: selected > 0 ? dropped / selected : 0,
  };
}

/** Mean over tokens of the entropy of the normalised affinities, nats; scores [T, E]. */
export function routerEntropy(scores: tf.Tensor2D): number {
  return tf.tidy(() => {
    const p = normalizeScores(scores); // [T, E]
    const h = tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), -1)); // [T]
    return tf.mean(h).dataSync()[0];
  });
}
