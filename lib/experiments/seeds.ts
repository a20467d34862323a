// Arms over seeds as the claim tables show them: mean ± sample std per arm, and the paired difference between two arms
// with its 95% interval (the interval and the verdict come from lib/verdict.ts's comparePaired; this only formats).
import type { PairedComparison } from "../verdict";
import { mean } from "./series";

/** Mean and sample standard deviation (n − 1; 0 for one value) of one arm's values over seeds. */
export function meanStd(xs: readonly number[]): { mean: number; std: number; n: number } {
  if (xs.length === 0 || !xs.every(Number.isFinite))
    throw new Error(`meanStd(xs): expected a non-empty array of finite numbers, got [${xs.join(", ")}]`);
  const m = mean(xs);
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean: m, std, n: xs.length };
}

/** "1.234 ± 0.012" (mean ± std over n values); one value shows as itself. `scale` multiplies first (100 for %). */
export function formatMeanStd(xs: readonly number[], digits = 3, scale = 1): string {
  const { mean: m, std, n } = meanStd(xs);
  return n > 1 ? `${(scale * m).toFixed(digits)} ± ${(scale * std).toFixed(digits)}` : (scale * m).toFixed(digits);
}

/** "Δ −0.012 [−0.020, −0.004]": the mean paired difference a − b and its 95% interval (none with one seed). */
export function formatPaired(c: PairedComparison, digits = 3, scale = 1): string {
  const f = (x: number) => (scale * x).toFixed(digits);
  return c.n > 1 ? `Δ ${f(c.diff)} [${f(c.ci95[0])}, ${f(c.ci95[1])}]` : `Δ ${f(c.diff)} (one seed)`;
}
