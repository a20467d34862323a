// Quantization error metrics, computed in float64: DeepGEMM's 1 − 2Σxy/Σ(x²+y²) (0 for identical tensors, 1 for
// unrelated ones), relative RMS error, max absolute error and SQNR. Reference: DeepGEMM tests (calc_diff);
// DESIGN.md §3 "Quantization error metric".

/** How far `approx` is from `exact`. */
export interface QuantError {
  /** DeepGEMM's 1 − 2Σxy / Σ(x² + y²). */
  deepgemm: number;
  /** √(Σ(x − y)²) / √(Σx²). */
  relRms: number;
  /** max |x − y|. */
  maxAbs: number;
  /** Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x − y)²) (Infinity when exact). */
  sqnrDb: number;
}

/** Error of `approx` against `exact` (same length; NaN anywhere gives NaN metrics). */
export function quantError(exact: ArrayLike<number>, approx: ArrayLike<number>): QuantError {
  if (exact.length !== approx.length) throw new Error(`quantError(exact, approx): lengths differ (${exact.length} vs ${approx.length})`);
  let xy = 0, xx = 0, yy = 0, dd = 0, maxAbs = 0;
  for (let i = 0; i < exact.length; i++) {
    const x = exact[i];
    const y = approx[i];
    const d = x - y;
    xy += x * y;
    xx += x * x;
    yy += y * y;
    dd += d * d;
    const a = Math.abs(d);
    if (a > maxAbs || Number.isNaN(a)) maxAbs = a;
  }
  const denom = xx + yy;
  return {
    deepgemm: denom === 0 ? 0 : 1 - (2 * xy) / denom,
    relRms: xx === 0 ? (dd === 0 ? 0 : Infinity) : Math.sqrt(dd / xx),
    maxAbs,
    sqnrDb: 10 * Math.log10(xx / dd),
  };
}

/** Counts of `values` in `bins` equal-width bins over [lo, hi] (values outside are dropped). */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): { centers: number[]; counts: number[] } {
  if (!Number.isSafeInteger(bins) || bins < 1 || !(hi > lo)) throw new Error(`histogram(values, bins, lo, hi): need an integer bins ≥ 1 and hi > lo, got ${bins}, [${lo}, ${hi}]`);
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return { centers: counts.map((_, b) => lo + (b + 0.5) * width), counts };
}
