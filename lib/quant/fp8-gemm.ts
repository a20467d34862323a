// FP8 GEMM emulation: inputs quantized to FP8 (activations 1×128 tiles, weights 128×128 blocks by default), products
// summed in a limited-precision accumulator that is promoted into an fp32 total every `promotionInterval` of K.
// DeepSeek-V3 (arXiv 2412.19437, §3.3.2 "Increasing Accumulation Precision"): H800 tensor cores keep ~14 bits of the
// accumulation, which for K = 4096 gives errors near 2%; promoting to CUDA-core fp32 every N_C = 128 fixes it. Our
// accumulator: the fp32 sum after each add cut to `accumulatorBits` fraction bits (13 fraction + the implicit bit =
// 14 bits), by truncation (default) or round to nearest even — an assumption, the hardware's exact rule is not public.
// Native kernel native/src/quant_fp8_gemm.cc; fp8GemmAccumulateJs is its JavaScript reference.
import { Fp8Format } from "./formats";
import { BLOCK_128X128, Granularity, TILE_1X128 } from "./granularity";
import { quantAddon } from "./native";
import { quantize } from "./quantized-tensor";
import { withDefaults } from "../check";

/** How the emulated FP8 GEMM quantizes and accumulates. */
export interface Fp8GemmConfig {
  /** FP8 format of both inputs. */
  format: Fp8Format;
  /** Scaling of A [M, K] (DeepSeek: 1×128 tiles). */
  aGranularity: Granularity;
  /** Scaling of B [N, K] (DeepSeek: 128×128 blocks). */
  bGranularity: Granularity;
  /** Products summed in the limited accumulator before each promotion to fp32; Infinity = never (only at the end). */
  promotionInterval: number;
  /** Fraction bits the limited accumulator keeps (23 = fp32). */
  accumulatorBits: number;
  /** Cut the accumulator by truncation (true) or round to nearest even (false). */
  truncate: boolean;
  /** Quantize the inputs to FP8 first (false: accumulate the given float32 values, isolating accumulation error). */
  quantizeInputs: boolean;
}

export const DEFAULT_FP8_GEMM: Readonly<Fp8GemmConfig> = Object.freeze({
  format: "e4m3",
  aGranularity: TILE_1X128,
  bGranularity: BLOCK_128X128,
  promotionInterval: 128,
  accumulatorBits: 13,
  truncate: true,
  quantizeInputs: true,
});

const view = new DataView(new ArrayBuffer(4));

/** x (a float32 value) cut to `bits` fraction bits, like the native kernel. */
function cut(x: number, shift: number, truncate: boolean): number {
  if (shift === 0) return x;
  view.setFloat32(0, x);
  let u = view.getUint32(0);
  if (!truncate) u += 2 ** (shift - 1) - 1 + ((u >>> shift) & 1);
  view.setUint32(0, (u >>> shift) << shift);
  return view.getFloat32(0);
}

/** JavaScript reference of the native accumulation: out[m,n] = Σ_k a[m,k]·b[n,k] (fp32 products, limited partial sums). */
export function fp8GemmAccumulateJs(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  interval: number,
  bits: number,
  truncate: boolean,
): Float32Array {
  const out = new Float32Array(m * n);
  const shift = 23 - bits;
  const f = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      let partial = 0;
      for (let t = 0; t < k; t++) {
        partial = cut(f(partial + f(a[i * k + t] * b[j * k + t])), shift, truncate);
        if ((t + 1) % interval === 0 || t + 1 === k) {
          total = f(total + partial);
          partial = 0;
        }
      }
      out[i * n + j] = total;
    }
  }
  return out;
}

/**
 * a [m, k] times b [n, k]ᵀ → [m, n] as an FP8 GEMM with limited-precision accumulation (see the file header).
 * Returns the product as float32 values.
 */
export function fp8GemmEmulated(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  config: Partial<Fp8GemmConfig> = {},
): Float32Array {
  const fn = "fp8GemmEmulated(a, b, m, n, k, config)";
  const cfg = withDefaults("fp8GemmEmulated(a, b, m, n, k, config)", DEFAULT_FP8_GEMM, config);
  for (const [name, v] of [
    ["m", m],
    ["n", n],
    ["k", k],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
  }
  if (!(a instanceof Float32Array) || a.length !== m * k)
    throw new Error(`${fn}: a must be a Float32Array of m·k = ${m * k} values`);
  if (!(b instanceof Float32Array) || b.length !== n * k)
    throw new Error(`${fn}: b must be a Float32Array of n·k = ${n * k} values`);
  const interval = cfg.promotionInterval === Infinity ? k : cfg.promotionInterval;
  if (!Number.isSafeInteger(interval) || interval < 1)
    throw new Error(`${fn}: promotionInterval must be a positive integer or Infinity, got ${cfg.promotionInterval}`);
  if (!Number.isInteger(cfg.accumulatorBits) || cfg.accumulatorBits < 1 || cfg.accumulatorBits > 23) {
    throw new Error(`${fn}: accumulatorBits must be an integer in [1, 23], got ${cfg.accumulatorBits}`);
  }
  const qa = cfg.quantizeInputs
    ? quantize(a, { format: cfg.format, granularity: cfg.aGranularity }, { shape: [m, k] }).dequantize()
    : a;
  const qb = cfg.quantizeInputs
    ? quantize(b, { format: cfg.format, granularity: cfg.bGranularity }, { shape: [n, k] }).dequantize()
    : b;
  const steps = Math.min(interval, k);
  const addon = quantAddon();
  if (!addon) return fp8GemmAccumulateJs(qa, qb, m, n, k, steps, cfg.accumulatorBits, cfg.truncate);
  const out = new Float32Array(m * n);
  addon.fp8GemmEmulated(qa, qb, out, m, n, k, steps, cfg.accumulatorBits, cfg.truncate);
  return out;
}
