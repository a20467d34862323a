// Batching a token stream into next-token-prediction pairs: inputs = tokens[o, o+T), targets = tokens[o+1, o+T+1),
// as int32 [B, T] tensors. Training batches are a pure function of (seed, step) — no hidden stream position — so a
// resumed run sees exactly the batches it would have seen. Reference: nanoGPT's get_batch (random offsets), made
// step-seeded.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, withDefaults } from "../check";
import { Rng } from "../random";

/** One batch: the caller (or train.fit) disposes the tensors. (Type aliases, not interfaces, so they are tf.TensorContainers.) */
export type Batch = {
  /** Token ids, int32 [B, T]. */
  inputs: tf.Tensor2D;
  /** The next token of each input position, int32 [B, T]. */
  targets: tf.Tensor2D;
};

/** A batch of the multi-domain mix: which domain each row came from. */
export type MixtureBatch = Batch & {
  /** Domain index of each row (an index into the streams given to mixtureBatches) [B]. */
  domains: Int32Array;
};

/** Batch shape and seed. */
export interface BatchConfig {
  /** Rows per batch (B). */
  batchSize: number;
  /** Tokens per row (T). */
  seqLen: number;
  /** Seed; step s draws its windows from stepSeed(seed, s). */
  seed: number;
}

/** 16 rows of 64 tokens, seed 0. */
export const DEFAULT_BATCH: Readonly<BatchConfig> = Object.freeze({ batchSize: 16, seqLen: 64, seed: 0 });

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit seed for step `step` of a run seeded with `seed` (murmur3 finaliser of both; distinct for nearby pairs). */
export function stepSeed(seed: number, step: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`stepSeed(seed, step): seed must be a non-negative safe integer, got ${seed}`);
  if (!Number.isSafeInteger(step) || step < 0)
    throw new Error(`stepSeed(seed, step): step must be a non-negative safe integer, got ${step}`);
  const s = mix32(((seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) + 0x3c6ef372)) + 0x9e3779b9);
  return mix32(s ^ mix32(step + 0x6a09e667 + (Math.floor(step / 2 ** 32) >>> 0)));
}

function checkBatchConfig(fn: string, cfg: BatchConfig): void {
  checkPositiveInt(fn, "config.batchSize", cfg.batchSize);
  checkPositiveInt(fn, "config.seqLen", cfg.seqLen);
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0)
    throw new Error(`${fn}: config.seed must be a non-negative safe integer, got ${cfg.seed}`);
}

function checkStream(fn: string, name: string, tokens: Int32Array, seqLen: number): void {
  if (!(tokens instanceof Int32Array)) throw new Error(`${fn}: ${name} must be an Int32Array of token ids`);
  if (tokens.length < seqLen + 1) {
    throw new Error(`${fn}: ${name} has ${tokens.length} tokens, fewer than seqLen + 1 = ${seqLen + 1}`);
  }
}

/** The batch of windows starting at `offsets` (one row each) of `streams[row]` (or one stream for all rows). */
export function windowBatch(
  streams: Int32Array | readonly Int32Array[],
  offsets: readonly number[],
  seqLen: number,
): Batch {
  const B = offsets.length;
  const inputs = new Int32Array(B * seqLen);
  const targets = new Int32Array(B * seqLen);
  offsets.forEach((o, row) => {
    const tokens = Array.isArray(streams) ? streams[row] : (streams as Int32Array);
    if (!(Number.isInteger(o) && o >= 0 && o + seqLen + 1 <= tokens.length)) {
      throw new Error(
        `windowBatch(streams, offsets, seqLen): offsets[${row}] = ${o} must be in [0, ${tokens.length - seqLen - 1}]`,
      );
    }
    inputs.set(tokens.subarray(o, o + seqLen), row * seqLen);
    targets.set(tokens.subarray(o + 1, o + seqLen + 1), row * seqLen);
  });
  return { inputs: tf.tensor2d(inputs, [B, seqLen], "int32"), targets: tf.tensor2d(targets, [B, seqLen], "int32") };
}

/** Random windows of `tokens`: batches(step) is the same batch for the same (config, step), in any order of calls. */
export function randomBatches(tokens: Int32Array, config: Partial<BatchConfig> = {}): (step: number) => Batch {
  const cfg = withDefaults("randomBatches(config)", DEFAULT_BATCH, config);
  const fn = "randomBatches(tokens, config)";
  checkBatchConfig(fn, cfg);
  checkStream(fn, "tokens", tokens, cfg.seqLen);
  const span = tokens.length - cfg.seqLen; // valid offsets: [0, span)
  return (step) => {
    const rng = new Rng(stepSeed(cfg.seed, step));
    return windowBatch(
      tokens,
      Array.from({ length: cfg.batchSize }, () => rng.int(span)),
      cfg.seqLen,
    );
  };
}

/**
 * Batches whose rows come from several token streams, each row's stream drawn with probability ∝ `weights[i]`
 * (a weight of 0 leaves a stream out). batches(step) is a pure function of (config, step), like randomBatches.
 */
export function mixtureBatches(
  streams: readonly Int32Array[],
  weights: readonly number[],
  config: Partial<BatchConfig> = {},
): (step: number) => MixtureBatch {
  const cfg = withDefaults("mixtureBatches(config)", DEFAULT_BATCH, config);
  const fn = "mixtureBatches(streams, weights, config)";
  checkBatchConfig(fn, cfg);
  if (streams.length === 0 || weights.length !== streams.length) {
    throw new Error(
      `${fn}: expected one weight per stream and at least one stream, got ${streams.length} streams and ${weights.length} weights`,
    );
  }
  streams.forEach((s, i) => checkStream(fn, `streams[${i}]`, s, cfg.seqLen));
  weights.forEach((w, i) => {
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`${fn}: weights[${i}] must be a finite number ≥ 0, got ${w}`);
  });
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error(`${fn}: weights must not all be 0`);
  const last = weights.length - 1 - [...weights].reverse().findIndex((w) => w > 0); // the last stream with weight > 0
  return (step) => {
    const rng = new Rng(stepSeed(cfg.seed, step));
    const domains = new Int32Array(cfg.batchSize);
    const offsets: number[] = [];
    for (let row = 0; row < cfg.batchSize; row++) {
      const u = rng.uniform() * total;
      let d = 0;
      for (let acc = weights[0]; d < last && (u >= acc || weights[d] === 0); acc += weights[d]) d++;
      domains[row] = d;
      offsets.push(rng.int(streams[d].length - cfg.seqLen));
    }
    return {
      ...windowBatch(
        offsets.map((_, row) => streams[domains[row]]),
        offsets,
        cfg.seqLen,
      ),
      domains,
    };
  };
}

/** A fixed, ordered set of evaluation batches. */
export interface EvalSet {
  /** Number of batches. */
  readonly count: number;
  /** Batch i in [0, count) (fresh tensors each call). */
  batch(i: number): Batch;
}

/** Evaluation settings. */
export interface EvalSetConfig {
  /** Rows per batch. */
  batchSize: number;
  /** Tokens per row. */
  seqLen: number;
  /** At most this many batches; windows are spread evenly over the stream when it holds more. */
  maxBatches: number;
}

/**
 * Non-overlapping windows (stride seqLen) over `tokens`, deterministic, evenly spread when capped by maxBatches. A
 * stream with fewer than batchSize windows gives one batch of all of them.
 */
export function evalBatches(tokens: Int32Array, config: EvalSetConfig): EvalSet {
  const fn = "evalBatches(tokens, config)";
  checkPositiveInt(fn, "config.batchSize", config.batchSize);
  checkPositiveInt(fn, "config.seqLen", config.seqLen);
  checkPositiveInt(fn, "config.maxBatches", config.maxBatches);
  checkStream(fn, "tokens", tokens, config.seqLen);
  const { batchSize: B, seqLen: T } = config;
  const windows = Math.floor((tokens.length - 1) / T);
  const count = Math.max(1, Math.min(config.maxBatches, Math.floor(windows / B)));
  const used = Math.min(windows, count * B);
  const offsets = Array.from({ length: used }, (_, i) => Math.floor((i * windows) / used) * T);
  return {
    count,
    batch(i: number): Batch {
      if (!(Number.isInteger(i) && i >= 0 && i < count))
        throw new Error(`EvalSet.batch(i): i must be an integer in [0, ${count}), got ${i}`);
      return windowBatch(tokens, offsets.slice(i * B, (i + 1) * B), T);
    },
  };
}
