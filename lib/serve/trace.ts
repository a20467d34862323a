// Seeded request traces: arrivals from a Poisson process (exponential gaps of mean 1/rate, vLLM benchmark_serving's
// `np.random.exponential(1.0 / request_rate)`; rate Infinity = everything at time 0) with prompt and output lengths
// drawn uniformly from ranges and random prompt tokens.
import { checkPositiveInt } from "../check";
import { Rng } from "../random";
import type { ServeRequest } from "./request";

/** A trace's shape. */
export interface TraceConfig {
  /** Requests. Default 32. */
  requests: number;
  /** Mean arrivals per clock unit; Infinity = all at 0. Default Infinity. */
  rate: number;
  /** Prompt length range [min, max] inclusive. Default [4, 16]. */
  promptLen: readonly [number, number];
  /** maxNewTokens range [min, max] inclusive. Default [4, 16]. */
  outputLen: readonly [number, number];
  /** Token ids are drawn from [0, vocabSize). Default 256. */
  vocabSize: number;
  /** Seed of the trace's stream. Default 0. */
  seed: number;
}

export const DEFAULT_TRACE: Readonly<TraceConfig> = Object.freeze({
  requests: 32,
  rate: Infinity,
  promptLen: [4, 16] as const,
  outputLen: [4, 16] as const,
  vocabSize: 256,
  seed: 0,
});

/** The trace's requests, ids "r0", "r1" …, each with its own sampling seed (the trace seed's stream). */
export function poissonTrace(partial: Partial<TraceConfig> = {}): ServeRequest[] {
  const c = { ...DEFAULT_TRACE, ...partial };
  const fn = "poissonTrace";
  checkPositiveInt(fn, "requests", c.requests);
  checkPositiveInt(fn, "vocabSize", c.vocabSize);
  if (!(c.rate > 0)) throw new Error(`${fn}: rate must be > 0 (Infinity = all at once), got ${c.rate}`);
  for (const key of ["promptLen", "outputLen"] as const) {
    const [lo, hi] = c[key];
    if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo >= 1 && hi >= lo))
      throw new Error(`${fn}: ${key} must be integers 1 ≤ min ≤ max, got [${lo}, ${hi}]`);
  }
  const rng = new Rng(c.seed);
  const between = ([lo, hi]: readonly [number, number]) => lo + rng.int(hi - lo + 1);
  let t = 0;
  return Array.from({ length: c.requests }, (_, i) => {
    if (i > 0 && Number.isFinite(c.rate)) t += -Math.log(1 - rng.uniform()) / c.rate;
    const prompt = Array.from({ length: between(c.promptLen) }, () => rng.int(c.vocabSize));
    return { id: `r${i}`, prompt, maxNewTokens: between(c.outputLen), arrival: t, seed: rng.uint32() };
  });
}
