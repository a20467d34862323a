// INT8/INT4 and FP8 quantize/dequantize with every granularity: round half to even, error ≤ scale/2 inside the range,
// INT4 packing, scales (symmetric, asymmetric with zero points, power of two, fp16 storage), honest bits per weight,
// no NaN for all-zero blocks, delayed scaling, the DeepGEMM error metric, and named errors.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { DelayedScaling } from "../../lib/quant/delayed";
import { quantError } from "../../lib/quant/error";
import { BLOCK_128X128, PER_CHANNEL, PER_TENSOR, TILE_1X128, blockLayout } from "../../lib/quant/granularity";
import { quantize, quantizeDequantize } from "../../lib/quant/quantized-tensor";
import { roundHalfEven, roundToFloat } from "../../lib/quant/round";
import { Rng } from "../../lib/random";

const rng = new Rng(11);
const normals = (n: number, std = 1) => Float32Array.from({ length: n }, () => Math.fround(rng.normal() * std));

describe("quantError", () => {
  it("reads tensors (a tensor pair used to report a perfect match) and names other arguments", () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.tensor2d([
      [1, 2],
      [3, 5],
    ]);
    const fromTensors = quantError(x, y);
    expect(fromTensors).toEqual(quantError([1, 2, 3, 4], [1, 2, 3, 5]));
    expect(fromTensors.relRms).toBeCloseTo(1 / Math.sqrt(30), 12);
    expect(() => quantError(x, tf.tensor1d([1, 2, 3, 5]))).toThrow(
      "quantError(exact, approx): shapes differ ([2,2] vs [4])",
    );
    expect(() => quantError({} as never, [1])).toThrow(
      "quantError(exact, approx): exact must be an array of numbers, a typed array or a tf.Tensor, got object",
    );
    tf.dispose([x, y]);
  });
});

describe("rounding", () => {
  it("roundHalfEven rounds ties to the even integer (Math.round does not)", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, 7].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 2, 3, 7,
    ]);
  });
  it("roundToFloat gives fp16 and bf16 values", () => {
    expect(roundToFloat(1 + 2 ** -11, 10, -14)).toBe(1); // tie → even
    expect(roundToFloat(1 + 3 * 2 ** -11, 10, -14)).toBe(1 + 2 ** -9);
    expect(roundToFloat(2 ** -25, 10, -14)).toBe(0); // half the smallest fp16 subnormal → 0 (even)
    expect(roundToFloat(Math.PI, 7, -126)).toBe(3.140625);
  });
});

describe("integer quantization", () => {
  it("INT8 symmetric per tensor: s = amax/127, codes in ±127, error ≤ s/2, round half to even", () => {
    const x = new Float32Array([1.27, -0.3, 0.004, -1.27]);
    const q = quantize(x, { format: "int8" });
    expect(q.scales[0]).toBe(Math.fround(Math.fround(1.27) / 127));
    expect(Array.from(q.codeValues())).toEqual([127, -30, 0, -127]);
    const y = normals(5000, 3);
    const qy = quantize(y, { format: "int8" });
    const d = qy.dequantize();
    y.forEach((v, i) => expect(Math.abs(v - d[i])).toBeLessThanOrEqual(qy.scales[0] / 2 + 1e-7));
  });

  it("ties at exactly half a step round to even codes", () => {
    const q = quantize(new Float32Array([127, 0.5, 1.5, 2.5, -2.5, 3.5]), { format: "int8" }); // s = 1
    expect(q.scales[0]).toBe(1);
    expect(Array.from(q.codeValues())).toEqual([127, 0, 2, 2, -2, 4]);
  });

  it("INT8 asymmetric: codes in [0, 255], zero point round(−min/s), error ≤ s/2", () => {
    const x = Float32Array.from(normals(3000), (v) => v + 2); // mostly positive; the range is widened to contain 0
    const q = quantize(x, { format: "int8", symmetric: false, granularity: PER_CHANNEL }, { shape: [30, 100] });
    expect(q.zeroPoints).not.toBeNull();
    const codes = q.codeValues();
    expect(Math.min(...codes)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...codes)).toBeLessThanOrEqual(255);
    const d = q.dequantize();
    x.forEach((v, i) =>
      expect(Math.abs(v - d[i])).toBeLessThanOrEqual(q.scales[Math.floor(i / 100)] * 0.5 * (1 + 1e-5)),
    );
    for (let r = 0; r < 30; r++) {
      const row = x.subarray(r * 100, r * 100 + 100);
      const lo = Math.min(0, ...row);
      const s = Math.fround((Math.max(0, ...row) - lo) / 255);
      expect(q.scales[r]).toBe(s);
      expect(q.zeroPoints![r]).toBe(roundHalfEven(-lo / s) + 0);
    }
  });

  it("INT4 g128 packs two codes per byte (low nibble first) and counts 4.125 bits with fp16 scales", () => {
    const x = new Float32Array(256);
    x[0] = 7;
    x[1] = -7;
    x[2] = 3;
    x[3] = -1;
    x[128] = 1.4; // group 0: s = 1; group 1: s = 0.2
    const q = quantize(x, { format: "int4", granularity: TILE_1X128, scaleFormat: "fp16" });
    expect(q.codes.length).toBe(128);
    expect(q.codes[0]).toBe(0x97); // 7 | (−7 & 0xf) << 4
    expect(q.codes[1]).toBe(0xf3); // 3 | (−1 & 0xf) << 4
    expect(Array.from(q.codeValues().subarray(0, 4))).toEqual([7, -7, 3, -1]);
    expect(q.codeValues()[128]).toBe(7);
    expect(q.scales[1]).toBe(roundToFloat(Math.fround(Math.fround(1.4) / 7), 10, -14));
    expect(q.bitsPerWeight()).toBe(4.125);
    expect(q.bytes()).toBe(128 + 4);
    expect(q.compressionRatio()).toBeCloseTo(32 / 4.125, 12);
  });

  it("bits per weight include every scale: INT8 per channel [64, 256] = 8 + 32/256; FP8 128×128 = 8 + 32/16384", () => {
    expect(
      quantize(normals(64 * 256), { format: "int8", granularity: PER_CHANNEL }, { shape: [64, 256] }).bitsPerWeight(),
    ).toBe(8.125);
    expect(
      quantize(
        normals(256 * 256),
        { format: "e4m3", granularity: BLOCK_128X128 },
        { shape: [256, 256] },
      ).bitsPerWeight(),
    ).toBe(8 + 32 / 16384);
  });

  it("an all-zero block gets a positive scale and decodes to zeros (no NaN), for every format", () => {
    const x = new Float32Array(256);
    x.fill(1, 128);
    for (const format of ["int8", "int4", "e4m3", "e5m2"] as const) {
      const q = quantize(x, { format, granularity: TILE_1X128 });
      expect(q.scales[0]).toBeGreaterThan(0);
      expect(Array.from(q.dequantize())).toEqual(Array.from(x));
    }
    expect(Array.from(quantize(new Float32Array(8), { format: "int8", symmetric: false }).dequantize())).toEqual(
      new Array(8).fill(0),
    );
  });
});

describe("scaling granularities", () => {
  const shape = [256, 384];
  const x = normals(256 * 384);
  for (let c = 0; c < 256; c++) x[c * 384 + 5] *= 50; // an outlier input channel

  it("per-channel, 1×128 and 128×128 scales are amax/448 over their blocks", () => {
    for (const [g, gr, gc] of [
      [PER_CHANNEL, 1, 384],
      [TILE_1X128, 1, 128],
      [BLOCK_128X128, 128, 128],
      [PER_TENSOR, 256, 384],
    ] as const) {
      const q = quantize(x, { format: "e4m3", granularity: g }, { shape });
      const layout = blockLayout("test", shape, g);
      expect([layout.groupRows, layout.groupCols]).toEqual([gr, gc]);
      expect(q.scales.length).toBe((256 / gr) * (384 / gc));
      for (let b = 0; b < q.scales.length; b++) {
        const r0 = Math.floor(b / (384 / gc)) * gr;
        const c0 = (b % (384 / gc)) * gc;
        let amax = 0;
        for (let r = r0; r < r0 + gr; r++)
          for (let c = c0; c < c0 + gc; c++) amax = Math.max(amax, Math.abs(x[r * 384 + c]));
        expect(q.scales[b]).toBe(Math.fround(amax / 448));
      }
    }
  });

  it("finer granularity lowers the error when one channel is an outlier", () => {
    const err = (g: typeof PER_TENSOR) =>
      quantError(x, quantize(x, { format: "int8", granularity: g }, { shape }).dequantize()).deepgemm;
    expect(err(TILE_1X128)).toBeLessThan(err(PER_TENSOR));
  });

  it("power-of-two scales are the smallest power of two ≥ amax/qmax", () => {
    const q = quantize(x, { format: "e4m3", granularity: TILE_1X128, pow2Scales: true }, { shape });
    const plain = quantize(x, { format: "e4m3", granularity: TILE_1X128 }, { shape });
    q.scales.forEach((s, b) => {
      expect(Number.isInteger(Math.log2(s))).toBe(true);
      expect(s).toBeGreaterThanOrEqual(plain.scales[b]);
      expect(s / 2).toBeLessThan(plain.scales[b]);
    });
    expect(q.saturated).toBe(0);
  });

  it("a block's last row strip may be short; tensors of any rank use their last dimension", () => {
    const q = quantize(tf.tensor(normals(2 * 5 * 128), [2, 5, 128]), {
      format: "e4m3",
      granularity: { kind: "block", size: 128 },
    });
    expect(q.scales.length).toBe(1);
    expect(q.shape).toEqual([2, 5, 128]);
    const t = quantizeDequantize(tf.tensor(normals(2 * 128), [2, 128]), { format: "e5m2", granularity: TILE_1X128 });
    expect(t.shape).toEqual([2, 128]);
    t.dispose();
  });

  it("delayed scaling uses the history's amax and counts the clamped values when a tensor grows", () => {
    const ds = new DelayedScaling({ format: "e4m3" }, { historyLength: 2 });
    const a = new Float32Array([1, -2, 0.5]);
    const first = ds.quantize(a);
    expect(first.scales[0]).toBe(Math.fround(2 / 448));
    const grown = ds.quantize(new Float32Array([4, -1, 0.5])); // uses amax 2 from the history
    expect(grown.scales[0]).toBe(Math.fround(2 / 448));
    expect(grown.saturated).toBe(1);
    expect(grown.dequantize()[0]).toBeCloseTo(2, 5);
    ds.quantize(a);
    expect(ds.quantize(a).scales[0]).toBe(Math.fround(4 / 448)); // history [4, 2]
    ds.quantize(a);
    expect(ds.quantize(a).scales[0]).toBe(Math.fround(2 / 448)); // 4 fell out of the 2-step history
  });
});

describe("quantError", () => {
  it("is DeepGEMM's 1 − 2Σxy/Σ(x²+y²): 0 identical, 1 against zeros, 2 against −x", () => {
    const x = [1, -2, 3];
    expect(quantError(x, x).deepgemm).toBe(0);
    expect(quantError(x, [0, 0, 0]).deepgemm).toBe(1);
    expect(
      quantError(
        x,
        x.map((v) => -v),
      ).deepgemm,
    ).toBe(2);
    expect(quantError(x, [1, -2, 3.5])).toMatchObject({ maxAbs: 0.5 });
    expect(quantError(x, [1, -2, 3.5]).deepgemm).toBeCloseTo(1 - (2 * 15.5) / (14 + 17.25), 14);
  });
});

describe("named errors", () => {
  it("unknown format, group size not dividing the dimension, non-finite or zero scales, NaN into integers", () => {
    const x = new Float32Array(200);
    expect(() => quantize(x, { format: "int3" as never })).toThrow(
      /quantize\(x, config\): format must be one of "e4m3", "e5m2", "int8", "int4", "nf4", got "int3"/,
    );
    expect(() => quantize(x, { format: "int4", granularity: TILE_1X128 }, { shape: [2, 100] })).toThrow(
      /quantize\(x, config\): group size 128 must be a positive integer dividing the last dimension 100 \(shape \[2,100\]\)/,
    );
    expect(() => quantize(x, { granularity: { kind: "block", size: 0 } })).toThrow(
      /block size 0 must be a positive integer/,
    );
    expect(() => quantize(x, {}, { scales: new Float32Array([Infinity]) })).toThrow(
      /quantize\(x, config\): scales\[0\] is Infinity; every scale must be finite and > 0/,
    );
    expect(() => quantize(x, {}, { scales: new Float32Array([0]) })).toThrow(/scales\[0\] is 0/);
    expect(() => quantize(x, { granularity: PER_CHANNEL }, { shape: [2, 100], scales: new Float32Array(1) })).toThrow(
      /scales must be a Float32Array of 2 values/,
    );
    expect(() => quantize(new Float32Array([1, Infinity]), { format: "int8" })).toThrow(
      /amax is Infinity; the input must be finite/,
    );
    expect(() => quantize(new Float32Array([1, NaN]), { format: "int8" })).toThrow(
      /integer formats cannot hold NaN \(x\[1\] is NaN\)/,
    );
    expect(() => quantize(x, { format: "e4m3", symmetric: false })).toThrow(/FP8 formats are symmetric/);
    expect(() => quantize(x, { granularity: { kind: "rows" } as never })).toThrow(/granularity must be/);
    expect(() => quantize(x, {}, { shape: [3, 3] })).toThrow(/shape \[3,3\] does not hold 200 values/);
  });

  it("FP8 keeps NaN (NaN in → NaN out) with amax taken over the finite values", () => {
    const d = quantize(new Float32Array([1, NaN, -2]), { format: "e4m3" }).dequantize();
    expect(d[0]).toBe(1);
    expect(d[1]).toBeNaN();
    expect(d[2]).toBe(-2);
  });
});
