// Interleaved timing on a shared machine: every round times each call once, in the same order, so all calls see the
// same background load; untimed warmup rounds first. Reference: the "interleaved" measurement of benchmark suites
// such as pyperformance / hyperfine's alternating runs (a slow phase of the machine hits every variant alike).
import { checkPositiveInt } from "../check";
import { summarize } from "../bench/timing";
import type { Timing } from "../bench/timing";

/** A named call to time (it must finish its work before returning: read results back). */
export interface TimedCall {
  name: string;
  run: () => void;
}

/** Timing settings. */
export interface InterleavedConfig {
  /** Timed rounds. */
  rounds: number;
  /** Untimed rounds first. Default 2. */
  warmupRounds: number;
}

/** Times `calls` in interleaved rounds; returns, per call (same order), the summary of its round times in ms. */
export function timeInterleaved(
  calls: readonly TimedCall[],
  config: Partial<InterleavedConfig> & Pick<InterleavedConfig, "rounds">,
): (Timing & { name: string })[] {
  const { rounds, warmupRounds } = { warmupRounds: 2, ...config };
  checkPositiveInt("timeInterleaved(calls, config)", "config.rounds", rounds);
  const samples = calls.map(() => [] as number[]);
  for (let round = -warmupRounds; round < rounds; round++) {
    calls.forEach((c, i) => {
      const t0 = performance.now();
      c.run();
      if (round >= 0) samples[i].push(performance.now() - t0);
    });
  }
  return calls.map((c, i) => ({ name: c.name, ...summarize(samples[i]) }));
}
