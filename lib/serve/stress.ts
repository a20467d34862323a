// The articles' stress test generalised: `benchmark(model, input_length, batch_size)` (warm-up, generate, throughput =
// tokens / latency, first-token latency, memory) over a batch × input length × output length grid, run through the
// Engine on the wall clock with every request arriving at once (static batching: exactly the articles' batch), with
// vLLM's per-request metrics; plus static vs continuous batching at rising Poisson request rates, and decoding with
// vs without the KV cache. References: the articles' `benchmark()`; vLLM benchmarks/benchmark_serving.py.
import { checkPositiveInt } from "../check";
import { generateBatch, StepModel } from "../model";
import { Rng } from "../random";
import { Engine, EngineConfig } from "./engine";
import { summarizeRun, ServeSummary } from "./metrics";
import type { ServeRequest } from "./request";
import { poissonTrace, TraceConfig } from "./trace";

/** A model the harness can measure: forward + cache, and its parameter count for the weights' bytes. */
export type ServeModel = StepModel & { numParams(): number };

/** The stress-test grid. */
export interface StressConfig {
  /** Batch sizes (requests served together). Default [1, 4]. */
  batch: readonly number[];
  /** Prompt lengths. Default [16]. */
  inputLen: readonly number[];
  /** Generated tokens per request (no stop token: every request generates exactly this many). Default [16]. */
  outputLen: readonly number[];
  /** Untimed runs of each cell before the timed one. Default 1. */
  warmup: number;
  /** Seed of the random prompts. Default 0. */
  seed: number;
}

export const DEFAULT_STRESS: Readonly<StressConfig> = Object.freeze({
  batch: [1, 4],
  inputLen: [16],
  outputLen: [16],
  warmup: 1,
  seed: 0,
});

/** One grid cell's measurements (seconds, tokens/s, bytes). */
export interface StressRow {
  batch: number;
  inputLen: number;
  outputLen: number;
  summary: ServeSummary;
  /** float32 weights: numParams · 4. */
  weightsBytes: number;
  /** Most bytes the KV cache tensors held (float32, padding slots included). */
  kvBytes: number;
  /** The process's peak resident set so far (process.resourceUsage().maxRSS), bytes. */
  peakRssBytes: number;
}

/** `batch` greedy requests of `inputLen` random tokens, all arriving at 0. */
export function batchRequests(
  vocabSize: number,
  batch: number,
  inputLen: number,
  outputLen: number,
  seed: number,
): ServeRequest[] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, (_, i) => ({
    id: `b${i}`,
    prompt: Array.from({ length: inputLen }, () => rng.int(vocabSize)),
    maxNewTokens: outputLen,
    arrival: 0,
    sampling: { temperature: 0 },
  }));
}

/** Bytes of the process's peak resident set so far. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Runs the grid (each cell: warm-up runs, then one timed static batch on the wall clock). */
export function stressTest(model: ServeModel, partial: Partial<StressConfig> = {}): StressRow[] {
  const c = { ...DEFAULT_STRESS, ...partial };
  const fn = "stressTest";
  if (!(Number.isSafeInteger(c.warmup) && c.warmup >= 0))
    throw new Error(`${fn}: warmup must be an integer ≥ 0, got ${c.warmup}`);
  for (const key of ["batch", "inputLen", "outputLen"] as const) {
    if (!c[key].length) throw new Error(`${fn}: ${key} must list at least one value`);
    c[key].forEach((v) => checkPositiveInt(fn, key, v));
  }
  const rows: StressRow[] = [];
  for (const batch of c.batch) {
    for (const inputLen of c.inputLen) {
      for (const outputLen of c.outputLen) {
        if (inputLen + outputLen > model.config.contextLen)
          throw new Error(
            `${fn}: inputLen ${inputLen} + outputLen ${outputLen} exceeds contextLen ${model.config.contextLen}`,
          );
        const requests = batchRequests(model.config.vocabSize, batch, inputLen, outputLen, c.seed);
        const engine = new Engine(model, { policy: "static", maxBatch: batch, clock: "wall" });
        for (let i = 0; i < c.warmup; i++) engine.run(requests);
        const run = engine.run(requests);
        rows.push({
          batch,
          inputLen,
          outputLen,
          summary: summarizeRun(run),
          weightsBytes: model.numParams() * 4,
          kvBytes: run.peakKvElements * 4,
          peakRssBytes: peakRssBytes(),
        });
      }
    }
  }
  return rows;
}

/** Static vs continuous batching at rising request rates. */
export interface BatchingCurveConfig {
  /** Mean request arrivals per second. Default [2, 8, 32]. */
  rates: readonly number[];
  /** The trace at every rate (its rate is replaced). */
  trace: Partial<TraceConfig>;
  /** Engine settings shared by both policies (policy and clock are set here). */
  engine: Partial<EngineConfig>;
}

export const DEFAULT_BATCHING_CURVES: Readonly<BatchingCurveConfig> = Object.freeze({
  rates: [2, 8, 32],
  trace: {},
  engine: {},
});

/** One policy at one rate. */
export interface CurvePoint {
  policy: "static" | "continuous";
  rate: number;
  summary: ServeSummary;
}

/** Serves the same seeded trace at each rate with both policies on the wall clock (after one untimed warm-up). */
export function batchingCurves(model: ServeModel, partial: Partial<BatchingCurveConfig> = {}): CurvePoint[] {
  const c = { ...DEFAULT_BATCHING_CURVES, ...partial };
  if (!c.rates.length || c.rates.some((r) => !(r > 0)))
    throw new Error(`batchingCurves: rates must list numbers > 0, got [${c.rates}]`);
  const trace = (rate: number) => poissonTrace({ vocabSize: model.config.vocabSize, ...c.trace, rate });
  new Engine(model, { ...c.engine, clock: "wall" }).run(trace(c.rates[0]).slice(0, 4));
  return c.rates.flatMap((rate) =>
    (["static", "continuous"] as const).map((policy) => ({
      policy,
      rate,
      summary: summarizeRun(new Engine(model, { ...c.engine, policy, clock: "wall" }).run(trace(rate))),
    })),
  );
}

/** Decoding with and without the KV cache on the same batch. */
export interface CacheComparison {
  batch: number;
  inputLen: number;
  outputLen: number;
  /** Generated tokens per second (wall clock, whole generateBatch call). */
  cachedTokensPerS: number;
  recomputeTokensPerS: number;
  /** Whether both produced the same tokens (they must). */
  sameTokens: boolean;
}

/** Times generateBatch (greedy) with the cache and with the whole prefix recomputed every token, after a warm-up. */
export function cacheComparison(
  model: ServeModel,
  batch: number,
  inputLen: number,
  outputLen: number,
  seed = 0,
): CacheComparison {
  const prompts = batchRequests(model.config.vocabSize, batch, inputLen, outputLen, seed).map((r) => r.prompt);
  const timed = (useCache: boolean) => {
    generateBatch(model, prompts, Math.min(2, outputLen), { temperature: 0, useCache });
    const t0 = performance.now();
    const tokens = generateBatch(model, prompts, outputLen, { temperature: 0, useCache });
    return { tokens, perS: (batch * outputLen) / ((performance.now() - t0) / 1000) };
  };
  const cached = timed(true);
  const recompute = timed(false);
  return {
    batch,
    inputLen,
    outputLen,
    cachedTokensPerS: cached.perS,
    recomputeTokensPerS: recompute.perS,
    sameTokens: JSON.stringify(cached.tokens) === JSON.stringify(recompute.tokens),
  };
}
