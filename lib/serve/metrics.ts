// Serving metrics of an engine run, as vLLM's benchmark_serving.py defines them: TTFT (arrival → first token), TPOT
// ((last − first token time) / (output tokens − 1), requests with one output token excluded), ITL (every gap between
// consecutive tokens), E2E latency (arrival → last token); means and p50/p90/p99 (numpy's linear-interpolation
// percentile); request, output-token and total-token (prompt + output) throughput over the run's duration.
import type { EngineRun, RequestResult } from "./engine";

/** The q-th percentile (0 ≤ q ≤ 100) of `values`, numpy.percentile's default linear interpolation; NaN if empty. */
export function percentile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile(values, q): q must be in [0, 100], got ${q}`);
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Mean and p50/p90/p99 of one latency. */
export interface LatencyStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/** LatencyStats of `values` (NaN everywhere when empty). */
export function latencyStats(values: readonly number[]): LatencyStats {
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
  return { mean, p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

/** One completed request's latencies (clock units). */
export interface RequestLatency {
  ttft: number;
  /** NaN with a single output token. */
  tpot: number;
  itl: number[];
  e2e: number;
}

/** The latencies of one completed request. */
export function requestLatency(r: RequestResult): RequestLatency {
  if (r.status !== "done" || !r.tokenTimes.length)
    throw new Error(`requestLatency(result): request ${r.id} did not complete`);
  const times = r.tokenTimes;
  const n = times.length;
  return {
    ttft: times[0] - r.arrival,
    tpot: n > 1 ? (times[n - 1] - times[0]) / (n - 1) : NaN,
    itl: times.slice(1).map((t, i) => t - times[i]),
    e2e: times[n - 1] - r.arrival,
  };
}

/** The run's summary. */
export interface ServeSummary {
  completed: number;
  rejected: number;
  /** First arrival → last token of the completed requests. */
  duration: number;
  promptTokens: number;
  outputTokens: number;
  requestsPerS: number;
  outputTokensPerS: number;
  totalTokensPerS: number;
  ttft: LatencyStats;
  tpot: LatencyStats;
  itl: LatencyStats;
  e2e: LatencyStats;
  preemptions: number;
}

/** Summarises an engine run (throughputs per clock unit: per second on the wall clock). */
export function summarizeRun(run: EngineRun): ServeSummary {
  const done = run.results.filter((r) => r.status === "done");
  const lat = done.map(requestLatency);
  const start = Math.min(...done.map((r) => r.arrival));
  const end = Math.max(...done.map((r) => r.tokenTimes[r.tokenTimes.length - 1]));
  const duration = done.length ? end - start : NaN;
  const promptTokens = done.reduce((n, r) => n + r.promptTokens, 0);
  const outputTokens = done.reduce((n, r) => n + r.tokens.length, 0);
  return {
    completed: done.length,
    rejected: run.results.length - done.length,
    duration,
    promptTokens,
    outputTokens,
    requestsPerS: done.length / duration,
    outputTokensPerS: outputTokens / duration,
    totalTokensPerS: (promptTokens + outputTokens) / duration,
    ttft: latencyStats(lat.map((l) => l.ttft)),
    tpot: latencyStats(lat.map((l) => l.tpot).filter((t) => !Number.isNaN(t))),
    itl: latencyStats(lat.flatMap((l) => l.itl)),
    e2e: latencyStats(lat.map((l) => l.e2e)),
    preemptions: run.preemptions,
  };
}
