// Scale (and zero-point) computation from block statistics: symmetric s = amax/qmax stored as the dequant multiplier
// (DeepSeek-V3 s = amax/448; INT8 amax/127, INT4 amax/7), asymmetric s = (max − min)/(2^b − 1), z = round(−min/s)
// with the range widened to contain 0 (torch.ao MinMaxObserver), optional power-of-two scales (rounded up, so
// amax/s ≤ qmax still holds), and the storage format of the scales (fp32, fp16, bf16), which rounds them.
// An all-zero block gets scale 1 (never 0, so no 0/0). Reference: DESIGN.md §3 "FP8", "INT8/INT4".
import { floorLog2, roundHalfEven, roundToFloat } from "./round";

/** How scales are stored: the format rounds them and sets their bits in bits-per-weight. */
export type ScaleFormat = "fp32" | "fp16" | "bf16";

export const SCALE_BITS: Readonly<Record<ScaleFormat, number>> = Object.freeze({ fp32: 32, fp16: 16, bf16: 16 });

/** Fraction bits and smallest normal exponent of the scale formats other than fp32. */
const SCALE_FLOATS: Record<Exclude<ScaleFormat, "fp32">, { mantBits: number; minExp: number; max: number }> = {
  fp16: { mantBits: 10, minExp: -14, max: 65504 },
  bf16: { mantBits: 7, minExp: -126, max: 3.3895313892515355e38 },
};

/** `s` stored in `format`: rounded to nearest even, never 0 (the smallest positive value instead). */
export function storeScale(fn: string, s: number, format: ScaleFormat): number {
  let stored = Math.fround(s);
  if (format !== "fp32") {
    const f = SCALE_FLOATS[format];
    stored = roundToFloat(stored, f.mantBits, f.minExp);
    if (stored === 0) stored = 2 ** (f.minExp - f.mantBits);
    if (stored > f.max) stored = Infinity;
  } else if (stored === 0) stored = 2 ** -149;
  if (!Number.isFinite(stored))
    throw new Error(
      `${fn}: a scale (${s}) is not finite in ${format}; the input holds ±Inf or values too large for the scale format`,
    );
  return stored;
}

/** The smallest power of two ≥ s (s > 0 finite). */
export function pow2Ceil(s: number): number {
  const e = floorLog2(s);
  return 2 ** e === s ? s : 2 ** (e + 1);
}

/** Symmetric scales: amax/qmax per block (1 for an all-zero block), optionally a power of two, stored in `format`. */
export function symmetricScales(
  fn: string,
  amax: Float32Array,
  qmax: number,
  pow2: boolean,
  format: ScaleFormat,
): Float32Array {
  return amax.map((a) => {
    if (!Number.isFinite(a))
      throw new Error(`${fn}: a block's amax is ${a}; the input must be finite (NaN is ignored)`);
    const s = a > 0 ? Math.fround(a / qmax) : 1;
    return storeScale(fn, pow2 ? pow2Ceil(s) : s, format);
  });
}

/** Asymmetric scales and zero points from each block's min and max (the range always contains 0). */
export function asymmetricScales(
  fn: string,
  min: Float32Array,
  max: Float32Array,
  levels: number,
  pow2: boolean,
  format: ScaleFormat,
): { scales: Float32Array; zeroPoints: Int32Array } {
  const scales = new Float32Array(min.length);
  const zeroPoints = new Int32Array(min.length);
  for (let b = 0; b < min.length; b++) {
    const lo = Math.min(min[b], 0);
    const hi = Math.max(max[b], 0);
    if (!Number.isFinite(hi - lo))
      throw new Error(`${fn}: a block's range [${lo}, ${hi}] is not finite; the input must be finite`);
    const s = hi > lo ? Math.fround((hi - lo) / (levels - 1)) : 1;
    scales[b] = storeScale(fn, pow2 ? pow2Ceil(s) : s, format);
    zeroPoints[b] = Math.min(levels - 1, Math.max(0, roundHalfEven(-lo / scales[b])));
  }
  return { scales, zeroPoints };
}

/** Throws unless `scales` has `blocks` finite positive entries (user-given scales, delayed scaling). */
export function checkScales(fn: string, scales: Float32Array, blocks: number): void {
  if (!(scales instanceof Float32Array) || scales.length !== blocks) {
    throw new Error(
      `${fn}: scales must be a Float32Array of ${blocks} values (one per block), got ${scales?.constructor?.name} of ${scales?.length}`,
    );
  }
  const bad = scales.findIndex((s) => !(Number.isFinite(s) && s > 0));
  if (bad >= 0) throw new Error(`${fn}: scales[${bad}] is ${scales[bad]}; every scale must be finite and > 0`);
}
