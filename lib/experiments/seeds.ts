// A comparison over several seeds: every arm runs on every seed of the notebook's seed list (the first seed only in a
// quick run), each arm is summarised as mean ± std and compared with another arm by the paired rule of lib/verdict.ts.
// Reference: issue 19 (seeds and noise bands); the paired t-interval is lib/verdict.ts's comparePaired.
import { comparePaired, type PairedComparison } from "../verdict";
import { mean } from "./series";

/** The seeds a run uses: all of `seeds` in a full run, the first one in a quick run (a smoke test decides nothing). */
export function runSeeds(seeds: readonly number[], quick: boolean): number[] {
  const fn = "runSeeds(seeds, quick)";
  if (!Array.isArray(seeds) || seeds.length === 0)
    throw new Error(`${fn}: seeds must be a non-empty array of integers`);
  if (!seeds.every((s) => Number.isSafeInteger(s) && s >= 0))
    throw new Error(`${fn}: every seed must be an integer ≥ 0, got ${JSON.stringify(seeds)}`);
  if (new Set(seeds).size !== seeds.length)
    throw new Error(`${fn}: seeds must be distinct, got ${JSON.stringify(seeds)}`);
  if (typeof quick !== "boolean") throw new Error(`${fn}: quick must be a boolean, got ${String(quick)}`);
  return quick ? [seeds[0]] : [...seeds];
}

/**
 * Runs `run(arm, seed)` for every seed (outer loop) and every arm (inner loop), one run at a time, and returns each
 * arm's results in seed order: { arm: [result of seeds[0], result of seeds[1], …] }. Seeds outermost, so work that
 * depends only on the seed (its batches, its baseline) can be shared across the arms of that seed by the caller.
 */
export async function overSeeds<A extends string, T>(
  seeds: readonly number[],
  arms: readonly A[],
  run: (arm: A, seed: number) => T | Promise<T>,
): Promise<Record<A, T[]>> {
  if (seeds.length === 0 || arms.length === 0)
    throw new Error(
      `overSeeds(seeds, arms, run): seeds and arms must be non-empty, got ${seeds.length} and ${arms.length}`,
    );
  if (new Set(arms).size !== arms.length) throw new Error(`overSeeds(seeds, arms, run): arms must be distinct`);
  const out = Object.fromEntries(arms.map((a) => [a, [] as T[]])) as Record<A, T[]>;
  for (const seed of seeds) for (const arm of arms) out[arm].push(await run(arm, seed));
  return out;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("std(xs): expected at least one value");
  if (xs.length === 1) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** "mean ± std" of per-seed values with `decimals` decimals, after multiplying by `scale` (100 for %); one value alone. */
export function meanStd(xs: readonly number[], decimals = 3, scale = 1): string {
  if (xs.length === 0 || !xs.every(Number.isFinite))
    throw new Error(`meanStd(xs): expected a non-empty array of finite numbers, got [${xs.join(", ")}]`);
  const m = (scale * mean(xs)).toFixed(decimals);
  return xs.length < 2 ? m : `${m} ± ${(Math.abs(scale) * std(xs)).toFixed(decimals)}`;
}

/** A paired comparison as text: "Δ −0.012 [−0.020, −0.004]" (difference a − b times `scale`, 95% interval; none for one seed). */
export function pairedText(p: PairedComparison, decimals = 3, scale = 1): string {
  const f = (x: number) => (scale * x >= 0 ? "+" : "−") + Math.abs(scale * x).toFixed(decimals);
  return p.n < 2 ? `Δ ${f(p.diff)} (one seed)` : `Δ ${f(p.diff)} [${f(p.ci95[0])}, ${f(p.ci95[1])}]`;
}

/**
 * Table rows [arm, mean ± std, paired difference arm − baseline with its 95% interval] of per-seed `values`
 * ({ arm: [value per seed] }, every arm on the same seeds), for lab.viz.table; the baseline's own row shows "—".
 */
export function armRows(values: Record<string, readonly number[]>, baseline: string, decimals = 3): string[][] {
  if (!(baseline in values))
    throw new Error(
      `armRows(values, baseline): baseline "${baseline}" is not an arm (${Object.keys(values).join(", ")})`,
    );
  return Object.entries(values).map(([arm, xs]) => [
    arm,
    meanStd(xs, decimals),
    arm === baseline ? "—" : pairedText(comparePaired(xs, values[baseline], "lower"), decimals),
  ]);
}

/** Per-seed values as metrics for lab.record: { name: mean, "name.std": std } for each entry (std only with ≥ 2 seeds). */
export function seedMetrics(values: Record<string, readonly number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, xs] of Object.entries(values)) {
    out[name] = mean(xs);
    if (xs.length > 1) out[`${name}.std`] = std(xs);
  }
  return out;
}
