// Timing harness: repeat a measurement, report median and spread (the machine is shared and noisy).
import * as tf from "@tensorflow/tfjs";
import { gemmFlops } from "../flops";
import { withDefaults } from "../check";

/** How to repeat a timed call. */
export interface TimingOptions {
  /** Untimed calls first (JIT, caches, lazy backend init). Default 1. */
  warmup: number;
  /** Timed calls. Default 5. */
  repeats: number;
}

export const DEFAULT_TIMING: Readonly<TimingOptions> = Object.freeze({ warmup: 1, repeats: 5 });

/** Summary of repeated timings, in milliseconds. */
export interface Timing {
  samples: number[];
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of samples (median of an even count = mean of the middle two). */
export function summarize(samples: number[]): Timing {
  if (samples.length === 0) throw new Error("summarize(samples): expected at least one sample");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { samples: [...samples], median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Times `fn` (sync or async) `repeats` times after `warmup` untimed calls. */
export async function time(fn: () => unknown, options: Partial<TimingOptions> = {}): Promise<Timing> {
  const { warmup, repeats } = withDefaults("time(fn, options)", DEFAULT_TIMING, options);
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`time(options.repeats): expected an integer ≥ 1, got ${repeats}`);
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new Error(`time(options.warmup): expected an integer ≥ 0, got ${warmup}`);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

/** Result of a matmul throughput measurement. */
export interface MatmulThroughput {
  backend: string;
  /** Square size: [n, n] × [n, n]. */
  n: number;
  timing: Timing;
  /** 2·n³ / median time. */
  gflops: number;
}

/** Measures an n×n×n float32 matmul on the current backend, including reading the result back. */
export async function matmulThroughput(n: number, options: Partial<TimingOptions> = {}): Promise<MatmulThroughput> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`matmulThroughput(n): expected a positive integer, got ${n}`);
  const a = tf.randomUniform([n, n], -1, 1, "float32", 1); // [n, n]
  const b = tf.randomUniform([n, n], -1, 1, "float32", 2); // [n, n]
  try {
    const timing = await time(async () => {
      const c = tf.matMul(a, b); // [n, n]
      await c.data();
      c.dispose();
    }, options);
    return {
      backend: tf.getBackend(),
      n,
      timing,
      gflops: gemmFlops({ batch: 1, m: n, n, k: n }) / (timing.median * 1e6),
    };
  } finally {
    tf.dispose([a, b]);
  }
}

/** Timed calls that fit `budgetMs` at `callMs` a call: between 1 and `repeats`. */
export function fitRepeats(callMs: number, repeats: number, budgetMs: number): number {
  if (!(callMs >= 0) || !(budgetMs > 0))
    throw new Error(`fitRepeats: expected callMs ≥ 0 and budgetMs > 0, got ${callMs} and ${budgetMs}`);
  return Math.max(1, Math.min(repeats, callMs > 0 ? Math.floor(budgetMs / callMs) : repeats));
}

/**
 * Like time(), but warms up for at least `warmup` calls and until `warmupMs` have passed (at most 1000 calls), and
 * when the last warmup call shows that `repeats` calls would take longer than `budgetMs`, times fewer (at least one):
 * slow backends get fewer repeats. Without warmup all `repeats` are timed.
 */
export async function timeWithinBudget(
  fn: () => unknown,
  options: TimingOptions & { warmupMs: number; budgetMs: number },
): Promise<Timing> {
  let repeats = options.repeats;
  const until = performance.now() + options.warmupMs;
  for (let i = 0; i < 1000 && (i < options.warmup || performance.now() < until); i++) {
    const start = performance.now();
    await fn();
    repeats = fitRepeats(performance.now() - start, options.repeats, options.budgetMs);
  }
  return time(fn, { warmup: 0, repeats });
}
