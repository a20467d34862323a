// Quantization exercise: INT8 symmetric per-tensor quantization with round half to even, checked against
// lab.quant.quantize. Reference: DESIGN.md §3 "INT8/INT4" (s = amax/127, round half to even; JS Math.round is not).
import { quantize } from "../quant/quantized-tensor";
import { PER_TENSOR } from "../quant/granularity";
import { roundHalfEven } from "../quant/round";
import { Rng } from "../random";
import { field, plain, type Exercise } from "./exercise";

type Int8Args = [x: Float32Array];
type Int8Result = { codes: Int8Array; scale: number };

function int8Case(name: string, values: number[], hidden = false) {
  return { name, hidden, args: (): Int8Args => [Float32Array.from(values)] };
}

/** INT8 quantization with a chosen rounding and scale divisor, for the known mistakes. */
function variant(x: Float32Array, round: (v: number) => number, qmax = 127): Int8Result {
  const amax = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = amax > 0 ? Math.fround(amax / qmax) : 1;
  return { scale, codes: Int8Array.from(x, (v) => Math.max(-127, Math.min(127, round(Math.fround(v / scale))))) };
}

const random = new Rng(21);

/** INT8 symmetric, one scale per tensor: scale = amax/127 (1 when all zero), code = roundHalfEven(x/scale). */
export const int8Symmetric: Exercise<Int8Args> = {
  id: "quant.int8Symmetric",
  signature: "(x: Float32Array) => { codes: Int8Array; scale: number }",
  cases: [
    int8Case("amax 127 (scale 1), ties ±0.5, ±1.5, ±2.5, 3.5", [127, 0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5]),
    int8Case("amax from a negative value (−254, scale 2), ties 2.5 and −0.5", [-254, 5, 3, -1, 100]),
    int8Case("all zeros (scale 1)", [0, 0, 0]),
    int8Case("64 normal values", Array.from({ length: 64 }, () => random.normal())),
    int8Case("hidden: ties at large codes ±125.5, ±126.5", [127, 125.5, 126.5, -125.5, -126.5, 4.5], true),
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
