// The benchmark loop: every case on every engine, case by case (engines interleaved, so drifting machine load hits
// them alike), with warmup + repeats, slow engines cut to a time budget and skipped when a call would be too long.
import { Engine, EngineName, RepeatPlan, firstLine } from "./engine";
import { Timing, summarize } from "./timing";
import type { BenchCase } from "./workloads";

/** How the benchmark repeats and limits its measurements. */
export interface BenchOptions extends RepeatPlan {
  /** Skip a case on an engine whose estimated call (flops at the engine's slowest rate so far in this run) takes longer, ms. */
  maxCallMs: number;
}

/**
 * Full run: warmup ≥ 1 call and ≥ 300 ms, 5 repeats, at most ~30 s per case on one engine, skip calls estimated
 * above 15 s (tfjs cpu: GEMM 2048³ at ~20 s a call, the transformer step at ~30 s).
 */
export const DEFAULT_BENCH_OPTIONS: Readonly<BenchOptions> = Object.freeze({
  warmup: 1,
  warmupMs: 300,
  repeats: 5,
  budgetMs: 30_000,
  maxCallMs: 15_000,
});

/** --quick: warmup ≥ 1 call and ≥ 100 ms, 3 repeats, ~5 s per case on one engine, skip calls estimated above 10 s. */
export const QUICK_BENCH_OPTIONS: Readonly<BenchOptions> = Object.freeze({
  warmup: 1,
  warmupMs: 100,
  repeats: 3,
  budgetMs: 5_000,
  maxCallMs: 10_000,
});

/** ok: timed; skipped: estimated too slow; unavailable: the engine is not installed / did not load; unsupported: the engine cannot run this workload; failed: it threw. */
export type MeasurementStatus = "ok" | "skipped" | "unavailable" | "unsupported" | "failed";

/** One cell of the table. */
export interface Measurement {
  caseId: string;
  engine: EngineName;
  status: MeasurementStatus;
  /** Why it was not measured, or what to know about the measurement. */
  note?: string;
  /** Present when status is "ok". */
  timing?: Timing;
  /** flops / median time, GFLOP/s (status "ok"). */
  gflops?: number;
  /** Cases with a token count: tokens / median time. */
  tokensPerS?: number;
  /** Process CPU seconds per wall second over the case's calls, where the engine measures it. */
  cores?: number;
}

/** An engine with the outcome of its open(). */
export interface OpenedEngine {
  engine: Engine;
  /** null when it runs, else why not. */
  unavailable: string | null;
}

/** Why `c` should be skipped on an engine that ran at `rates` GFLOP/s so far (null: run it; no rates yet: run it). */
export function skipReason(c: BenchCase, rates: readonly number[], maxCallMs: number): string | null {
  if (rates.length === 0) return null;
  const slowest = Math.min(...rates);
  const estimateMs = c.flops / (slowest * 1e6);
  if (estimateMs <= maxCallMs) return null;
  return `skipped: ~${(estimateMs / 1000).toFixed(0)} s a call at ${slowest.toPrecision(3)} GFLOP/s (limit ${maxCallMs / 1000} s)`;
}

/** Opens every engine (in order), noting which cannot run and why. */
export async function openEngines(engines: readonly Engine[]): Promise<OpenedEngine[]> {
  const out: OpenedEngine[] = [];
  for (const engine of engines) {
    let unavailable: string | null;
    try {
      unavailable = await engine.open();
    } catch (e) {
      unavailable = `failed to start: ${firstLine(e)}`;
    }
    out.push({ engine, unavailable });
  }
  return out;
}

/** Measures every case on every opened engine; `onMeasurement` sees each cell as it is done. */
export async function runBench(
  cases: readonly BenchCase[],
  engines: readonly OpenedEngine[],
  options: BenchOptions,
  onMeasurement: (m: Measurement, c: BenchCase) => void = () => undefined,
): Promise<Measurement[]> {
  const rates = new Map<EngineName, number[]>(engines.map((e) => [e.engine.name, []]));
  const out: Measurement[] = [];
  for (const c of cases) {
    for (const { engine, unavailable } of engines) {
      const base = { caseId: c.id, engine: engine.name };
      let m: Measurement;
      const unsupported = unavailable ? null : engine.unsupported(c);
      const skip = unavailable || unsupported ? null : skipReason(c, rates.get(engine.name)!, options.maxCallMs);
      if (unavailable) m = { ...base, status: "unavailable", note: unavailable };
      else if (unsupported) m = { ...base, status: "unsupported", note: unsupported };
      else if (skip) m = { ...base, status: "skipped", note: skip };
      else {
        try {
          const r = await engine.measure(c, options);
          const timing = summarize(r.samples);
          const gflops = c.flops / (timing.median * 1e6);
          rates.get(engine.name)!.push(gflops);
          const extra = {
            ...(c.tokens ? { tokensPerS: c.tokens / (timing.median / 1e3) } : {}),
            ...(r.cores !== undefined ? { cores: r.cores } : {}),
          };
          m = { ...base, status: "ok", timing, gflops, ...extra, ...(r.note ? { note: r.note } : {}) };
        } catch (e) {
          m = { ...base, status: "failed", note: firstLine(e) };
        }
      }
      out.push(m);
      onMeasurement(m, c);
    }
  }
  return out;
}
