// Quantization error metrics, computed in float64: DeepGEMM's 1 − 2Σxy/Σ(x²+y²) (0 for identical tensors, 1 for
// unrelated ones), relative RMS error, max absolute error and SQNR. Reference: DeepGEMM tests (calc_diff);
// DESIGN.md §3 "Quantization error metric".
import * as tf from "@tensorflow/tfjs";

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

/** The values of an argument of quantError: an array-like of numbers, or a tensor (read back, with its shape). */
function valuesOf(
  name: string,
  v: ArrayLike<number> | tf.Tensor,
): { values: ArrayLike<number>; shape: number[] | null } {
  if (v instanceof tf.Tensor) return { values: v.dataSync() as ArrayLike<number>, shape: v.shape };
  if (v === null || typeof v !== "object" || !Number.isSafeInteger((v as ArrayLike<number>).length)) {
    throw new Error(
      `quantError(exact, approx): ${name} must be an array of numbers, a typed array or a tf.Tensor, got ${v === null ? "null" : typeof v}`,
    );
  }
  return { values: v, shape: null };
}

/** Error of `approx` against `exact` (arrays of one length, or tensors of one shape; NaN anywhere gives NaN metrics). */
export function quantError(
  exactIn: ArrayLike<number> | tf.Tensor,
  approxIn: ArrayLike<number> | tf.Tensor,
): QuantError {
  const x = valuesOf("exact", exactIn);
  const y = valuesOf("approx", approxIn);
  if (x.shape && y.shape && !tf.util.arraysEqual(x.shape, y.shape)) {
    throw new Error(`quantError(exact, approx): shapes differ ([${x.shape}] vs [${y.shape}])`);
  }
  const [exact, approx] = [x.values, y.values];
  if (exact.length !== approx.length)
    throw new Error(`quantError(exact, approx): lengths differ (${exact.length} vs ${approx.length})`);
  let xy = 0,
    xx = 0,
    yy = 0,
    dd = 0,
    maxAbs = 0;
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
export function histogram(
  values: ArrayLike<number>,
  bins: number,
  lo: number,
  hi: number,
): { centers: number[]; counts: number[] } {
  if (!Number.isSafeInteger(bins) || bins < 1 || !(hi > lo))
    throw new Error(
      `histogram(values, bins, lo, hi): need an integer bins ≥ 1 and hi > lo, got ${bins}, [${lo}, ${hi}]`,
    );
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return { centers: counts.map((_, b) => lo + (b + 0.5) * width), counts };
}
