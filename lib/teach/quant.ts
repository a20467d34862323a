// Quantization exercises: INT8 symmetric per-tensor quantization and the FP8 E4M3 encoder, both rounding half to
// even, checked against lab.quant.quantize and lab.quant.fp8Encode. Reference: DESIGN.md §3 "INT8/INT4" (s = amax/127,
// round half to even; JS Math.round is not) and "FP8" (OCP OFP8 E4M3: bias 7, max 448, subnormals, NaN S.1111.111).
import { fp8Encode } from "../quant/fp8";
import { quantize } from "../quant/quantized-tensor";
import { PER_TENSOR } from "../quant/granularity";
import { floorLog2, roundHalfEven } from "../quant/round";
import { Rng } from "../random";
import { field, plain, type Exercise } from "./exercise";

type ValuesArgs = [x: Float32Array];
type Int8Result = { codes: Int8Array; scale: number };

function valuesCase(name: string, values: number[], hidden = false) {
  return { name, hidden, args: (): ValuesArgs => [Float32Array.from(values)] };
}

/** INT8 quantization with a chosen rounding and scale divisor, for the known mistakes. */
function variant(x: Float32Array, round: (v: number) => number, qmax = 127): Int8Result {
  const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = amax > 0 ? Math.fround(amax / qmax) : 1;
  return { scale, codes: Int8Array.from(x, (v) => Math.max(-127, Math.min(127, round(Math.fround(v / scale))))) };
}

const random = new Rng(21);

/** INT8 symmetric, one scale per tensor: scale = amax/127 (1 when all zero), code = roundHalfEven(x/scale). */
export const int8Symmetric: Exercise<ValuesArgs> = {
  id: "quant.int8Symmetric",
  signature: "(x: Float32Array) => { codes: Int8Array; scale: number }",
  cases: [
    valuesCase("amax 127 (scale 1), ties ±0.5, ±1.5, ±2.5, 3.5", [127, 0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5]),
    valuesCase("amax from a negative value (−254, scale 2), ties 2.5 and −0.5", [-254, 5, 3, -1, 100]),
    valuesCase("all zeros (scale 1)", [0, 0, 0]),
    valuesCase(
      "64 normal values",
      Array.from({ length: 64 }, () => random.normal()),
    ),
    valuesCase("hidden: ties at large codes ±125.5, ±126.5", [127, 125.5, 126.5, -125.5, -126.5, 4.5], true),
  ],
  reference: (x) => {
    const q = quantize(x, { format: "int8", granularity: PER_TENSOR, symmetric: true }, { shape: [x.length] });
    return { codes: q.codes, scale: q.scales[0] };
  },
  toPlain: (output) => {
    const fn = "your int8 quantizer";
    const scale = field(output, "scale", fn);
    if (typeof scale !== "number") throw new Error(`${fn}: scale must be a number, got ${typeof scale}`);
    return { scale, codes: plain(field(output, "codes", fn), `${fn}: codes`) };
  },
  tolerance: 1e-6,
  mistakes: [
    {
      name: "Math.round",
      hint: "Math.round rounds ties up (2.5 → 3, −2.5 → −2); quantizers round half to even (2.5 → 2, 3.5 → 4, −2.5 → −2)",
      impl: (x) => variant(x, Math.round),
    },
    {
      name: "truncation",
      hint: "Math.trunc (or `| 0`) drops the fraction; round to the nearest integer, ties to even",
      impl: (x) => variant(x, Math.trunc),
    },
    {
      name: "scale over 128",
      hint: "symmetric INT8 uses ±127 so that +amax and −amax both fit: scale = amax / 127",
      impl: (x) => variant(x, roundHalfEven, 128),
    },
  ],
};

/** An E4M3 encoder with deliberate changes, for the known mistakes (saturating unless `overflowNaN`). */
function variantE4M3(
  x: Float32Array,
  change: { round?: (v: number) => number; flushSubnormals?: boolean; overflowNaN?: boolean },
): Uint8Array {
  const round = change.round ?? roundHalfEven;
  return Uint8Array.from(x, (v) => {
    if (Number.isNaN(v)) return 0x7f;
    const sign = v < 0 || Object.is(v, -0) ? 0x80 : 0;
    const a = Math.abs(v);
    if (a === 0 || (change.flushSubnormals && a < 2 ** -6)) return sign;
    const e = a === Infinity ? 8 : Math.max(floorLog2(a), -6); // binade; subnormals share 2^-6's spacing
    const code = a === Infinity ? 0x7f : ((e + 6) << 3) + round(a / 2 ** (e - 3));
    return (code > 0x7e ? (change.overflowNaN ? 0x7f : 0x7e) : code) | sign;
  });
}

/** FP8 E4M3 (OCP OFP8) encoding, saturating, round to nearest even: one code (0–255) per value. */
export const e4m3Encode: Exercise<ValuesArgs> = {
  id: "quant.e4m3Encode",
  signature: "(x: Float32Array) => Uint8Array",
  cases: [
    valuesCase("exact values 0, 1, −2, 0.5, 448, −0", [0, 1, -2, 0.5, 448, -0]),
    valuesCase("ties between codes: 1 + 1/16, 1 + 3/16, 17, 19", [1.0625, 1.1875, 17, 19, -17]),
    valuesCase("subnormals: 2⁻⁹, 3·2⁻¹⁰, 2⁻⁷, 2⁻¹⁰", [2 ** -9, 3 * 2 ** -10, 2 ** -7, 2 ** -10, -(2 ** -8)]),
    valuesCase("overflow saturates: 470, −1000, Infinity; NaN", [470, -1000, Infinity, NaN]),
    valuesCase(
      "hidden: 64 values of spread magnitude",
      Array.from({ length: 64 }, () => random.normal() * 2 ** Math.round(random.normal() * 6)),
      true,
    ),
  ],
  reference: (x) => fp8Encode(x, "e4m3", { saturate: true }),
  toPlain: (output) => {
    if (!(output instanceof Uint8Array))
      throw new Error(
        `your encoder must return a Uint8Array of codes, got ${output?.constructor?.name ?? typeof output}`,
      );
    return plain(output, "codes");
  },
  tolerance: 0,
  mistakes: [
    {
      name: "Math.round",
      hint: "Math.round rounds ties up; a value halfway between two FP8 numbers goes to the one whose last mantissa bit is 0 (round half to even)",
      impl: (x) => variantE4M3(x, { round: Math.round }),
    },
    {
      name: "flushed subnormals",
      hint: "below 2⁻⁶ E4M3 has subnormals (exponent field 0, spacing 2⁻⁹): they are not 0",
      impl: (x) => variantE4M3(x, { flushSubnormals: true }),
    },
    {
      name: "overflow to NaN",
      hint: "this encoder saturates: values beyond ±448 (±Infinity included) become ±448 (code 0x7E / 0xFE), not NaN",
      impl: (x) => variantE4M3(x, { overflowNaN: true }),
    },
  ],
};
