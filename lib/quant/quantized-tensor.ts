// QuantizedTensor: codes + scales (+ zero points) + shape + format + granularity, with dequantize and honest storage
// accounting (bits per weight include the scales and zero points: INT4 g128 with fp16 scales = 4.125 bits). And
// quantize(), the pure function that makes one. Reference: DESIGN.md §3 "FP8", "INT8/INT4".
import * as tf from "@tensorflow/tfjs";
import {
  FP8_SPECS,
  INT_SPECS,
  IntFormat,
  NF4_VALUES,
  QuantFormat,
  checkFormat,
  codeBits,
  formatMax,
  isFp8,
} from "./formats";
import { encodeValue, fp8Values } from "./fp8";
import {
  BlockLayout,
  Granularity,
  PER_TENSOR,
  blockAmaxJs,
  blockLayout,
  forEachRun,
  granularityName,
} from "./granularity";
import { NATIVE_MIN_ELEMENTS, fp8FormatId, quantAddon } from "./native";
import { roundHalfEven } from "./round";
import { SCALE_BITS, ScaleFormat, asymmetricScales, checkScales, symmetricScales } from "./scales";
import { withDefaults } from "../check";

/** How to quantize a tensor. */
export interface QuantConfig {
  /** Code format: "e4m3", "e5m2", "int8", "int4" or "nf4". */
  format: QuantFormat;
  /** Which elements share a scale (per tensor, per channel/row, 1×g groups, g×g blocks). */
  granularity: Granularity;
  /** INT only: codes symmetric around 0 (s = amax/qmax) or unsigned with a zero point per block. FP8 is symmetric. */
  symmetric: boolean;
  /** Round every scale up to a power of two (DeepSeek's optional UE8M0 scales). */
  pow2Scales: boolean;
  /** How scales are stored (rounds them; counts 32 or 16 bits each). */
  scaleFormat: ScaleFormat;
  /** FP8 only: clamp out-of-range values to ±max (true) or turn them into NaN (E4M3) / ±Inf (E5M2). */
  saturate: boolean;
}

export const DEFAULT_QUANT: Readonly<QuantConfig> = Object.freeze({
  format: "e4m3",
  granularity: PER_TENSOR,
  symmetric: true,
  pow2Scales: false,
  scaleFormat: "fp32",
  saturate: true,
});

/** A config with every field checked; errors name `fn`. */
export function resolveQuantConfig(fn: string, config: Partial<QuantConfig>): QuantConfig {
  const cfg = withDefaults(fn, DEFAULT_QUANT, config);
  checkFormat(fn, cfg.format);
  if (!(cfg.scaleFormat in SCALE_BITS))
    throw new Error(`${fn}: scaleFormat must be "fp32", "fp16" or "bf16", got ${JSON.stringify(cfg.scaleFormat)}`);
  if (isFp8(cfg.format) && !cfg.symmetric)
    throw new Error(`${fn}: FP8 formats are symmetric (symmetric: false is for int8/int4)`);
  if (cfg.format === "nf4" && !cfg.symmetric)
    throw new Error(`${fn}: nf4 is symmetric, scaled by absmax per block (symmetric: false is for int8/int4)`);
  return cfg;
}

/** A short label: "int4 1x128 fp16", "e4m3 128x128". */
export function quantLabel(config: Partial<QuantConfig>): string {
  const c = withDefaults("quantLabel(config)", DEFAULT_QUANT, config);
  const parts = [c.format, granularityName(c.granularity)];
  if (!c.symmetric) parts.push("asym");
  if (c.pow2Scales) parts.push("pow2");
  if (c.scaleFormat !== "fp32") parts.push(c.scaleFormat);
  return parts.join(" ");
}

/** A quantized tensor: codes, one scale (and zero point, if asymmetric) per block, and what they mean. */
export class QuantizedTensor {
  constructor(
    /** The code format. */
    readonly format: QuantFormat,
    /** The tensor's shape. */
    readonly shape: readonly number[],
    /** Which elements share a scale. */
    readonly granularity: Granularity,
    /** The block layout the scales follow. */
    readonly layout: BlockLayout,
    /** One code per element: FP8 codes (Uint8Array), INT8 symmetric (Int8Array), INT8 asymmetric (Uint8Array), INT4 and NF4 two per byte, low nibble first. */
    readonly codes: Uint8Array | Int8Array,
    /** Dequant multipliers, one per block: x ≈ (code − zeroPoint) · scale. */
    readonly scales: Float32Array,
    /** Zero points per block (asymmetric INT), else null. */
    readonly zeroPoints: Int32Array | null,
    /** How the scales are stored. */
    readonly scaleFormat: ScaleFormat,
    /** Elements with |x / scale| above the largest code magnitude: clamped (NaN/Inf when FP8 does not saturate). */
    readonly saturated: number,
  ) {}

  /** Number of elements. */
  get size(): number {
    return this.layout.rows * this.layout.cols;
  }

  /** The integer code of every element (INT4 unpacked and sign-extended; NF4 unpacked, 0–15; FP8 codes 0–255). */
  codeValues(): Int32Array {
    const n = this.size;
    const out = new Int32Array(n);
    if (this.format === "int4" || this.format === "nf4") {
      for (let i = 0; i < n; i++) {
        const nibble = (this.codes[i >> 1] >> ((i & 1) * 4)) & 0xf;
        out[i] = this.zeroPoints || this.format === "nf4" || nibble < 8 ? nibble : nibble - 16;
      }
    } else out.set(this.codes);
    return out;
  }

  /** The float32 values the codes stand for. */
  dequantize(): Float32Array {
    const out = new Float32Array(this.size);
    const { rows, cols, groupRows, groupCols } = this.layout;
    const addon = quantAddon();
    if (isFp8(this.format) && addon && out.length >= NATIVE_MIN_ELEMENTS) {
      addon.fp8Dequantize(
        this.codes as Uint8Array,
        this.scales,
        out,
        rows,
        cols,
        groupRows,
        groupCols,
        fp8FormatId(this.format),
      );
      return out;
    }
    const values = isFp8(this.format) ? fp8Values(this.format) : this.format === "nf4" ? NF4_VALUES : null;
    const codes = isFp8(this.format) ? this.codes : this.codeValues();
    const zp = this.zeroPoints;
    forEachRun(this.layout, (b, begin, end) => {
      const s = this.scales[b];
      const z = zp ? zp[b] : 0;
      for (let i = begin; i < end; i++) out[i] = values ? values[codes[i]] * s : (codes[i] - z) * s;
    });
    return out;
  }

  /** dequantize() as a float32 tensor of this shape. */
  toTensor(): tf.Tensor {
    return tf.tensor(this.dequantize(), this.shape as number[], "float32");
  }

  /** Storage in bits: codes + scales + zero points (zero points take a code's bits). */
  bits(): number {
    const zpBits = this.zeroPoints ? this.zeroPoints.length * codeBits(this.format) : 0;
    return this.size * codeBits(this.format) + this.scales.length * SCALE_BITS[this.scaleFormat] + zpBits;
  }

  /** Bits per element including scales and zero points (INT4 g128 with fp16 scales: 4.125). */
  bitsPerWeight(): number {
    return this.bits() / this.size;
  }

  /** Storage in bytes (codes packed, rounded up to whole bytes). */
  bytes(): number {
    return Math.ceil(this.bits() / 8);
  }

  /** fp32 size / this size. */
  compressionRatio(): number {
    return 32 / this.bitsPerWeight();
  }
}

function toArray(
  fn: string,
  x: tf.Tensor | Float32Array,
  shape?: readonly number[],
): { values: Float32Array; shape: number[] } {
  if (x instanceof tf.Tensor) {
    if (x.dtype !== "float32") throw new Error(`${fn}: x must be a float32 tensor, got ${x.dtype}`);
    return { values: x.dataSync() as Float32Array, shape: x.shape.length ? x.shape : [1] };
  }
  if (!(x instanceof Float32Array))
    throw new TypeError(`${fn}: x must be a tf.Tensor or a Float32Array, got ${typeof x}`);
  const s = shape ? [...shape] : [x.length];
  if (s.reduce((p, d) => p * d, 1) !== x.length)
    throw new Error(`${fn}: shape [${s}] does not hold ${x.length} values`);
  return { values: x, shape: s };
}

function blockMinMax(values: Float32Array, layout: BlockLayout): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(layout.blocks).fill(Infinity);
  const max = new Float32Array(layout.blocks).fill(-Infinity);
  forEachRun(layout, (b, begin, end) => {
    for (let i = begin; i < end; i++) {
      if (values[i] < min[b]) min[b] = values[i];
      if (values[i] > max[b]) max[b] = values[i];
    }
  });
  return { min: min.map((v) => (v === Infinity ? 0 : v)), max: max.map((v) => (v === -Infinity ? 0 : v)) };
}

/** max |x| per block: the native kernel for large arrays, else JavaScript. */
export function blockAmax(values: Float32Array, layout: BlockLayout): Float32Array {
  const addon = quantAddon();
  if (!addon || values.length < NATIVE_MIN_ELEMENTS) return blockAmaxJs(values, layout);
  const amax = new Float32Array(layout.blocks);
  addon.blockAmax(values, amax, layout.rows, layout.cols, layout.groupRows, layout.groupCols);
  return amax;
}

/** Elements with |x / scale| beyond limit, counted only in blocks whose amax / scale (as the encoder divides) exceeds it. */
function countSaturated(
  values: Float32Array,
  layout: BlockLayout,
  amax: Float32Array,
  scales: Float32Array,
  limit: number,
): number {
  let count = 0;
  forEachRun(layout, (b, begin, end) => {
    if (!(Math.fround(amax[b] / scales[b]) > limit)) return;
    for (let i = begin; i < end; i++) if (Math.abs(Math.fround(values[i] / scales[b])) > limit) count++;
  });
  return count;
}

function checkNoNaN(fn: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) throw new Error(`${fn}: integer formats cannot hold NaN (x[${i}] is NaN)`);
  }
}

function intCodes(
  values: Float32Array,
  layout: BlockLayout,
  format: IntFormat,
  scales: Float32Array,
  zeroPoints: Int32Array | null,
): Int8Array | Uint8Array {
  const spec = INT_SPECS[format];
  const [lo, hi] = zeroPoints ? [0, spec.levels - 1] : [-spec.qmax, spec.qmax];
  const addon = quantAddon();
  if (format === "int8" && !zeroPoints && addon && values.length >= NATIVE_MIN_ELEMENTS) {
    const codes = new Int8Array(values.length);
    addon.int8Quantize(values, codes, scales, layout.rows, layout.cols, layout.groupRows, layout.groupCols);
    return codes;
  }
  const q = new Int32Array(values.length);
  forEachRun(layout, (b, begin, end) => {
    const s = scales[b];
    const z = zeroPoints ? zeroPoints[b] : 0;
    for (let i = begin; i < end; i++) q[i] = Math.min(hi, Math.max(lo, roundHalfEven(Math.fround(values[i] / s)) + z));
  });
  if (format === "int8") return zeroPoints ? Uint8Array.from(q) : Int8Array.from(q);
  const packed = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i++) packed[i >> 1] |= (q[i] & 0xf) << ((i & 1) * 4);
  return packed;
}

/** NF4 codes: the index of the nearest NF4 value to x/scale (ties to the lower index), two per byte, low nibble first. */
function nf4Codes(values: Float32Array, layout: BlockLayout, scales: Float32Array): Uint8Array {
  const packed = new Uint8Array(Math.ceil(values.length / 2));
  forEachRun(layout, (b, begin, end) => {
    for (let i = begin; i < end; i++) {
      const x = Math.fround(values[i] / scales[b]);
      let code = 0;
      while (code < 15 && Math.abs(NF4_VALUES[code + 1] - x) < Math.abs(NF4_VALUES[code] - x)) code++;
      packed[i >> 1] |= code << ((i & 1) * 4);
    }
  });
  return packed;
}

function fp8Codes(values: Float32Array, layout: BlockLayout, config: QuantConfig, scales: Float32Array): Uint8Array {
  const format = config.format as "e4m3" | "e5m2";
  const codes = new Uint8Array(values.length);
  const addon = quantAddon();
  if (addon && values.length >= NATIVE_MIN_ELEMENTS) {
    const { rows, cols, groupRows, groupCols } = layout;
    addon.fp8Quantize(values, codes, scales, rows, cols, groupRows, groupCols, fp8FormatId(format), config.saturate);
    return codes;
  }
  const spec = FP8_SPECS[format];
  forEachRun(layout, (b, begin, end) => {
    for (let i = begin; i < end; i++) codes[i] = encodeValue(spec, Math.fround(values[i] / scales[b]), config.saturate);
  });
  return codes;
}

/** Options of quantize() beyond the config. */
export interface QuantizeOptions {
  /** The shape of a Float32Array input (default [length]); ignored for tensors. */
  shape: readonly number[];
  /** Given scales (one per block, finite, > 0) instead of ones from the data: delayed scaling, calibration. Symmetric only. */
  scales: Float32Array;
}

/**
 * Quantizes `x` (a float32 tensor, or a Float32Array with options.shape) per `config`. Pure: returns a new
 * QuantizedTensor (with the count of saturated elements). Errors name the function and the bad argument.
 */
export function quantize(
  x: tf.Tensor | Float32Array,
  config: Partial<QuantConfig> = {},
  options: Partial<QuantizeOptions> = {},
): QuantizedTensor {
  const fn = "quantize(x, config)";
  const cfg = resolveQuantConfig(fn, config);
  const { values, shape } = toArray(fn, x, options.shape);
  const layout = blockLayout(fn, shape, cfg.granularity);
  if (!isFp8(cfg.format)) checkNoNaN(fn, values);
  const limit = formatMax(cfg.format);
  let scales: Float32Array;
  let zeroPoints: Int32Array | null = null;
  let amax: Float32Array | null = null;
  if (options.scales) {
    if (!cfg.symmetric) throw new Error(`${fn}: options.scales needs symmetric: true (zero points come from the data)`);
    checkScales(fn, options.scales, layout.blocks);
    scales = options.scales.slice();
  } else if (cfg.symmetric) {
    amax = blockAmax(values, layout);
    scales = symmetricScales(fn, amax, limit, cfg.pow2Scales, cfg.scaleFormat);
  } else {
    const { min, max } = blockMinMax(values, layout);
    ({ scales, zeroPoints } = asymmetricScales(
      fn,
      min,
      max,
      INT_SPECS[cfg.format as IntFormat].levels,
      cfg.pow2Scales,
      cfg.scaleFormat,
    ));
  }
  const codes = isFp8(cfg.format)
    ? fp8Codes(values, layout, cfg, scales)
    : cfg.format === "nf4"
      ? nf4Codes(values, layout, scales)
      : intCodes(values, layout, cfg.format as IntFormat, scales, zeroPoints);
  const saturated = cfg.symmetric
    ? countSaturated(values, layout, amax ?? blockAmax(values, layout), scales, limit)
    : 0;
  return new QuantizedTensor(
    cfg.format,
    shape,
    cfg.granularity,
    layout,
    codes,
    scales,
    zeroPoints,
    cfg.scaleFormat,
    saturated,
  );
}

/** dequantize(quantize(x)): the values x takes after quantization, as a new tensor of x's shape. */
export function quantizeDequantize(x: tf.Tensor, config: Partial<QuantConfig> = {}): tf.Tensor {
  return tf.tensor(quantize(x, config).dequantize(), x.shape, "float32");
}
