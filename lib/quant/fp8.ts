// FP8 E4M3 / E5M2 encode and decode, bit-exact to the OCP OFP8 specification: round to nearest even, subnormals,
// ±0, NaN in → NaN out; saturating mode clamps to ±max (±Inf included), non-saturating mode turns overflow into
// NaN (E4M3) or ±Inf (E5M2). Reference: OCP 8-bit Floating Point Specification (OFP8) rev. 1.0 §5.3–5.4;
// DESIGN.md §3 "FP8". Arrays of NATIVE_MIN_ELEMENTS or more run native/src/quant_fp8.cc.
import * as tf from "@tensorflow/tfjs";
import { FP8_SPECS, Fp8Format, Fp8Spec, fp8Spec } from "./formats";
import { NATIVE_MIN_ELEMENTS, fp8FormatId, quantAddon } from "./native";
import { floorLog2, roundHalfEven } from "./round";
import { withDefaults } from "../check";

/** FP8 conversion options. */
export interface Fp8Options {
  /** Clamp out-of-range values (±Inf included) to ±max instead of NaN (E4M3) / ±Inf (E5M2). Default true. */
  saturate: boolean;
}

export const DEFAULT_FP8_OPTIONS: Readonly<Fp8Options> = Object.freeze({ saturate: true });

/** The value of one code (0–255) of `spec`'s format. */
function decodeCode(spec: Fp8Spec, code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const expMask = (1 << spec.expBits) - 1;
  const exp = (code >> spec.mantBits) & expMask;
  const frac = code & ((1 << spec.mantBits) - 1);
  if (spec.infCode === null ? (code & 0x7f) === 0x7f : exp === expMask) {
    return spec.infCode !== null && frac === 0 ? sign * Infinity : NaN;
  }
  const minExp = 1 - spec.bias;
  const significand = exp === 0 ? frac : (1 << spec.mantBits) + frac;
  return sign * significand * 2 ** (Math.max(exp - spec.bias, minExp) - spec.mantBits);
}

const TABLES: Record<Fp8Format, Float32Array> = {
  e4m3: Float32Array.from({ length: 256 }, (_, c) => decodeCode(FP8_SPECS.e4m3, c)),
  e5m2: Float32Array.from({ length: 256 }, (_, c) => decodeCode(FP8_SPECS.e5m2, c)),
};

/** The 256 values of `format`'s codes, indexed by code (a fresh copy). */
export function fp8Values(format: Fp8Format): Float32Array {
  return TABLES[fp8Spec("fp8Values(format)", format).format].slice();
}

/** The code of one value (JavaScript reference path). */
export function encodeValue(spec: Fp8Spec, x: number, saturate: boolean): number {
  if (Number.isNaN(x)) return spec.nanCode;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  const overflow = (saturate ? spec.maxCode : (spec.infCode ?? spec.nanCode)) | sign;
  if (a === Infinity) return overflow;
  const m = spec.mantBits;
  const e = Math.max(floorLog2(a), 1 - spec.bias); // the binade; subnormals share the smallest normal's spacing
  const r = roundHalfEven(a / 2 ** (e - m)); // in [0, 2^(m+1)]: a carry lands on the next binade's first code
  const code = ((e + spec.bias - 1) << m) + r;
  return code > spec.maxCode ? overflow : code | sign;
}

function checkArray<T>(fn: string, name: string, value: unknown, type: new (...args: never[]) => T, what: string): T {
  if (!(value instanceof type))
    throw new TypeError(`${fn}: ${name} must be a ${what}, got ${value?.constructor?.name ?? typeof value}`);
  return value;
}

/** Encodes every value to FP8 codes (round to nearest even). */
export function fp8Encode(values: Float32Array, format: Fp8Format, opts: Partial<Fp8Options> = {}): Uint8Array {
  const fn = "fp8Encode(values, format, opts)";
  checkArray(fn, "values", values, Float32Array, "Float32Array");
  const spec = fp8Spec(fn, format);
  const { saturate } = withDefaults("fp8Encode(values, format, opts)", DEFAULT_FP8_OPTIONS, opts);
  const codes = new Uint8Array(values.length);
  const addon = quantAddon();
  if (addon && values.length >= NATIVE_MIN_ELEMENTS) {
    addon.fp8Quantize(values, codes, ONE, 1, values.length, 1, values.length, fp8FormatId(format), saturate);
  } else {
    for (let i = 0; i < values.length; i++) codes[i] = encodeValue(spec, values[i], saturate);
  }
  return codes;
}

const ONE = new Float32Array([1]);

/** Decodes FP8 codes to their float32 values. */
export function fp8Decode(codes: Uint8Array, format: Fp8Format): Float32Array {
  const fn = "fp8Decode(codes, format)";
  checkArray(fn, "codes", codes, Uint8Array, "Uint8Array");
  const table = TABLES[fp8Spec(fn, format).format];
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]];
  return out;
}

/** The values `values` take after a round trip through FP8 (encode, then decode). */
export function fp8Round(values: Float32Array, format: Fp8Format, opts: Partial<Fp8Options> = {}): Float32Array {
  return fp8Decode(fp8Encode(values, format, opts), format);
}

/** Tensor version of fp8Encode: float32 tensor → int32 tensor of codes (0–255), same shape. */
export function fp8EncodeTensor(x: tf.Tensor, format: Fp8Format, opts: Partial<Fp8Options> = {}): tf.Tensor {
  if (x.dtype !== "float32") throw new Error(`fp8EncodeTensor(x, format): x must be float32, got ${x.dtype}`);
  return tf.tensor(Int32Array.from(fp8Encode(x.dataSync() as Float32Array, format, opts)), x.shape, "int32");
}

/** Tensor version of fp8Decode: int32 tensor of codes (0–255) → float32 tensor, same shape. */
export function fp8DecodeTensor(codes: tf.Tensor, format: Fp8Format): tf.Tensor {
  const fn = "fp8DecodeTensor(codes, format)";
  if (codes.dtype !== "int32") throw new Error(`${fn}: codes must be int32, got ${codes.dtype}`);
  const values = codes.dataSync();
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0 && values[i] <= 255))
      throw new Error(`${fn}: codes must be in [0, 255], got ${values[i]} at index ${i}`);
    bytes[i] = values[i];
  }
  return tf.tensor(fp8Decode(bytes, format), codes.shape, "float32");
}
