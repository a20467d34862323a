// The element encodings of safetensors files beyond F32/I32/BOOL: IEEE half (F16), bfloat16 (BF16), OCP FP8 E4M3
// (F8_E4M3, decoded/encoded by lab.quant's bit-exact codec) and 64-bit integers (I64), to and from float32/int32.
// Rounding is to nearest, ties to even (lab.quant's roundToFloat). References: IEEE 754-2019 binary16; Google's
// bfloat16 (the top 16 bits of a float32); OCP OFP8 rev. 1.0; safetensors/src/tensor.rs (the Dtype names).
import { fp8Decode, fp8Encode } from "../quant/fp8";
import { roundToFloat } from "../quant/round";

/** float32 bits ↔ values (little-endian hosts only: the caller checks). */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Largest finite F16 value. */
const F16_MAX = 65504;

/** F16 bits of a float32 value (round to nearest even; overflow → ±Inf; NaN → the quiet NaN 0x7e00). */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = roundToFloat(Math.abs(x), 10, -14); // exact binary16 value (or > F16_MAX: overflow)
  if (a > F16_MAX) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | (a / 2 ** -24); // subnormal (or zero): the fraction counts 2⁻²⁴ steps
  F32[0] = a; // a normal half is a normal float32 with the low 13 fraction bits zero
  const bits = U32[0];
  return sign | ((((bits >>> 23) & 0xff) - 127 + 15) << 10) | ((bits >>> 13) & 0x3ff);
}

/** The float32 value of F16 bits (exact). */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (exp === 0 ? frac * 2 ** -24 : (1024 + frac) * 2 ** (exp - 25));
}

/** BF16 bits of a float32 value (round to nearest even; overflow → ±Inf; NaN → a quiet NaN). */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  F32[0] = roundToFloat(x, 7, -126); // exact in bf16 (Math.fround of an overflow is ±Inf, also exact)
  return U32[0] >>> 16;
}

/** The float32 value of BF16 bits (exact). */
export function bf16Value(b: number): number {
  U32[0] = (b & 0xffff) << 16;
  return F32[0];
}

/** float32 values → F16 or BF16 bytes (little-endian). */
export function encodeHalf(values: ArrayLike<number>, dtype: "F16" | "BF16"): Uint8Array {
  const out = new Uint16Array(values.length);
  const bits = dtype === "F16" ? f16Bits : bf16Bits;
  for (let i = 0; i < values.length; i++) out[i] = bits(values[i]);
  return new Uint8Array(out.buffer);
}

/** F16 or BF16 bytes (aligned copy) → float32 values. */
export function decodeHalf(raw: Uint8Array, dtype: "F16" | "BF16"): Float32Array {
  const halves = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const out = new Float32Array(halves.length);
  if (dtype === "BF16") {
    const wide = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) wide[i] = halves[i] << 16;
  } else {
    for (let i = 0; i < halves.length; i++) out[i] = f16Value(halves[i]);
  }
  return out;
}

/**
 * float32 values → F8_E4M3 codes with lab.quant's encoder. The values must already be in E4M3's range (a scaled
 * weight): a finite value beyond ±448 is an error naming the tensor, not a silent clamp.
 */
export function encodeE4M3(fn: string, name: string, values: Float32Array): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > 464) {
      // 464 = 448 + half a step: the first value that would not round to ±448
      throw new Error(
        `${fn}: tensor "${name}" stored as F8_E4M3 has value ${values[i]} at index ${i}, beyond E4M3's ±448 (scale it first)`,
      );
    }
  }
  return fp8Encode(values, "e4m3", { saturate: true });
}

/** F8_E4M3 codes → float32 values (lab.quant's bit-exact decode). */
export function decodeE4M3(raw: Uint8Array): Float32Array {
  return fp8Decode(raw, "e4m3");
}

/** I64 bytes (aligned copy) → int32 values; a value outside int32 is an error naming the tensor. */
export function decodeI64(fn: string, name: string, raw: Uint8Array): Int32Array {
  const wide = new BigInt64Array(raw.buffer, raw.byteOffset, raw.length / 8);
  const out = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i];
    if (v < -2147483648n || v > 2147483647n)
      throw new Error(`${fn}: tensor "${name}" I64 value ${v} at index ${i} does not fit int32`);
    out[i] = Number(v);
  }
  return out;
}

/** int32 values → I64 bytes. */
export function encodeI64(values: ArrayLike<number>): Uint8Array {
  const wide = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) wide[i] = BigInt(values[i]);
  return new Uint8Array(wide.buffer);
}
