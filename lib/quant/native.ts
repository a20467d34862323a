// The addon functions of native/src/quant_*.cc, typed; null when the addon is missing or predates them (the
// quantizers then run their JavaScript reference paths, which the tests compare with these kernels).
import { nativeAddon } from "../native/addon";

/** A block layout over a [rows, cols] matrix: element (r, c) uses scale ⌊r/groupRows⌋·⌈cols/groupCols⌉ + ⌊c/groupCols⌋. */
export interface NativeQuantAddon {
  /** codes[i] = fp8(x[i] / scale(i)) for format 0 = E4M3, 1 = E5M2; saturating or not. */
  fp8Quantize(
    x: Float32Array,
    codes: Uint8Array,
    scales: Float32Array,
    rows: number,
    cols: number,
    groupRows: number,
    groupCols: number,
    format: number,
    saturate: boolean,
  ): void;
  /** out[i] = decode(codes[i]) · scale(i). */
  fp8Dequantize(
    codes: Uint8Array,
    scales: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    groupRows: number,
    groupCols: number,
    format: number,
  ): void;
  /** amax[g] = max |x| over block g (NaN is ignored). */
  blockAmax(
    x: Float32Array,
    amax: Float32Array,
    rows: number,
    cols: number,
    groupRows: number,
    groupCols: number,
  ): void;
  /** codes[i] = clamp(roundHalfEven(x[i] / scale(i)), −127, 127). */
  int8Quantize(
    x: Float32Array,
    codes: Int8Array,
    scales: Float32Array,
    rows: number,
    cols: number,
    groupRows: number,
    groupCols: number,
  ): void;
  /** out[m,n] = Σ_k a[m,k]·b[n,k] in int32 (a [m,k], b [n,k] row-major int8). */
  int8Gemm(a: Int8Array, b: Int8Array, out: Int32Array, m: number, n: number, k: number): void;
  /** The int8 GEMM path in use: "avx512-vnni", "avx-vnni" or "scalar". */
  int8GemmKernel(): string;
  /**
   * out[m,n] = Σ_k a[m,k]·b[n,k] with fp32 products summed in an accumulator of `accMantBits` fraction bits
   * (truncating or rounding to nearest even after every add), added into an fp32 total every `interval` products.
   */
  fp8GemmEmulated(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
    interval: number,
    accMantBits: number,
    truncate: boolean,
  ): void;
}

const REQUIRED = [
  "fp8Quantize",
  "fp8Dequantize",
  "blockAmax",
  "int8Quantize",
  "int8Gemm",
  "int8GemmKernel",
  "fp8GemmEmulated",
];

let cached: NativeQuantAddon | null | undefined;

/** The quantization kernels of the native addon, or null when they are not built here. */
export function quantAddon(): NativeQuantAddon | null {
  if (cached === undefined) {
    const addon = nativeAddon() as unknown as Record<string, unknown> | null;
    cached =
      addon && REQUIRED.every((name) => typeof addon[name] === "function")
        ? (addon as unknown as NativeQuantAddon)
        : null;
  }
  return cached;
}

/** Arrays at least this long go to the native kernels (below it the call overhead dominates). */
export const NATIVE_MIN_ELEMENTS = 4096;

/** The format number the kernels take. */
export function fp8FormatId(format: "e4m3" | "e5m2"): number {
  return format === "e4m3" ? 0 : 1;
}
