// The number formats the quantizers produce: OCP OFP8 E4M3 / E5M2, two's-complement INT8 / INT4 and QLoRA's NF4, with
// the facts every quantizer needs (largest code magnitude, bits per code). Reference: OCP 8-bit Floating Point
// Specification (OFP8) rev. 1.0 §5; DESIGN.md §3 "FP8", "INT8/INT4"; Dettmers et al. 2023 (QLoRA) Appendix E (NF4).

/** The FP8 formats of the OCP OFP8 specification. */
export type Fp8Format = "e4m3" | "e5m2";
/** The integer formats: INT8 and INT4 (two codes per byte). */
export type IntFormat = "int8" | "int4";
/** NormalFloat4: 16 code values at quantiles of N(0, 1), scaled per block by absmax (QLoRA). */
export type Nf4Format = "nf4";
/** Every quantized format the lab produces. */
export type QuantFormat = Fp8Format | IntFormat | Nf4Format;

export const FP8_FORMATS: readonly Fp8Format[] = Object.freeze(["e4m3", "e5m2"]);
export const INT_FORMATS: readonly IntFormat[] = Object.freeze(["int8", "int4"]);
export const QUANT_FORMATS: readonly QuantFormat[] = Object.freeze([...FP8_FORMATS, ...INT_FORMATS, "nf4"]);

/**
 * NF4's code values, ascending (code i stands for NF4_VALUES[i]·scale): 7 negative and 8 positive normal quantiles and
 * an exact 0, normalised to [−1, 1]; float32 values of scripts/nf4_table.py (Appendix E's construction, bitsandbytes'
 * create_normal_map).
 */
export const NF4_VALUES: readonly number[] = Object.freeze([
  -1.0, -0.6961929202079773, -0.5250730514526367, -0.39491748809814453, -0.28444135189056396, -0.18477343022823334,
  -0.09104999154806137, 0.0, 0.07958032935857773, 0.16093017160892487, 0.24611228704452515, 0.33791518211364746,
  0.44070979952812195, 0.5626169443130493, 0.7229567170143127, 1.0,
]);

/** The bit layout and special codes of one FP8 format. */
export interface Fp8Spec {
  readonly format: Fp8Format;
  /** Exponent field width. */
  readonly expBits: number;
  /** Mantissa (fraction) field width. */
  readonly mantBits: number;
  /** Exponent bias. */
  readonly bias: number;
  /** Largest finite magnitude (E4M3 448, E5M2 57344). */
  readonly max: number;
  /** Code of +max (the largest finite positive code). */
  readonly maxCode: number;
  /** The canonical NaN code this library writes (S.1111.111 for E4M3, S.11111.11 for E5M2). */
  readonly nanCode: number;
  /** Code of +Inf, or null where the format has none (E4M3). */
  readonly infCode: number | null;
}

export const FP8_SPECS: Readonly<Record<Fp8Format, Fp8Spec>> = Object.freeze({
  e4m3: Object.freeze({
    format: "e4m3",
    expBits: 4,
    mantBits: 3,
    bias: 7,
    max: 448,
    maxCode: 0x7e,
    nanCode: 0x7f,
    infCode: null,
  }),
  e5m2: Object.freeze({
    format: "e5m2",
    expBits: 5,
    mantBits: 2,
    bias: 15,
    max: 57344,
    maxCode: 0x7b,
    nanCode: 0x7f,
    infCode: 0x7c,
  }),
} as const);

/** The integer range of an INT format's symmetric codes (−qmax … qmax) and its bits per code. */
export interface IntSpec {
  readonly format: IntFormat;
  readonly bits: number;
  /** Symmetric range: codes in [−qmax, qmax] (INT8 127, INT4 7). */
  readonly qmax: number;
  /** Asymmetric (unsigned) range: codes in [0, levels − 1] (INT8 255, INT4 15). */
  readonly levels: number;
}

export const INT_SPECS: Readonly<Record<IntFormat, IntSpec>> = Object.freeze({
  int8: Object.freeze({ format: "int8", bits: 8, qmax: 127, levels: 256 }),
  int4: Object.freeze({ format: "int4", bits: 4, qmax: 7, levels: 16 }),
} as const);

/** Throws unless `format` is an FP8 format; names the calling function. */
export function fp8Spec(fn: string, format: unknown): Fp8Spec {
  if (format !== "e4m3" && format !== "e5m2") {
    throw new Error(`${fn}: format must be one of "e4m3", "e5m2", got ${JSON.stringify(format)}`);
  }
  return FP8_SPECS[format];
}

/** Throws unless `format` is a known quantized format; names the calling function. */
export function checkFormat(fn: string, format: unknown): QuantFormat {
  if (!(QUANT_FORMATS as readonly unknown[]).includes(format)) {
    throw new Error(
      `${fn}: format must be one of ${QUANT_FORMATS.map((f) => `"${f}"`).join(", ")}, got ${JSON.stringify(format)}`,
    );
  }
  return format as QuantFormat;
}

/** True for "e4m3" and "e5m2". */
export function isFp8(format: QuantFormat): format is Fp8Format {
  return format === "e4m3" || format === "e5m2";
}

/** Bits of one code: 8 for FP8 and INT8, 4 for INT4 and NF4. */
export function codeBits(format: QuantFormat): number {
  return format === "int4" || format === "nf4" ? 4 : 8;
}

/** The largest magnitude a symmetric code represents (before scaling): FP8 max, or INT qmax. */
export function formatMax(format: QuantFormat): number {
  return isFp8(format) ? FP8_SPECS[format].max : format === "nf4" ? 1 : INT_SPECS[format].qmax;
}
