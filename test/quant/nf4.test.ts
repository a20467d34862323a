// NF4 (Dettmers et al. 2023, QLoRA, Appendix E): the code values against bitsandbytes' published table, exact
// round trips of the code values, nearest-value rounding checked by brute force, storage bits, and a lower error than
// INT4 on normally distributed weights (the reason NF4 exists). scripts/nf4_table.py derives the table.
import { describe, expect, it } from "vitest";
import { NF4_VALUES, codeBits, formatMax } from "../../lib/quant/formats";
import { quantize } from "../../lib/quant/quantized-tensor";
import { Rng } from "../../lib/random";

// bitsandbytes functional.py, get_4bit_type("nf4") (computed there in float32: differences ≤ 5e-7)
const BNB_NF4 = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];
const G64 = { kind: "group", size: 64 } as const;

describe("NF4", () => {
  it("has bitsandbytes' 16 values: 7 negative, an exact 0, 8 positive, from −1 to 1", () => {
    expect(NF4_VALUES.length).toBe(16);
    NF4_VALUES.forEach((v, i) => expect(Math.abs(v - BNB_NF4[i])).toBeLessThan(5e-7));
    expect(NF4_VALUES.filter((v) => v < 0).length).toBe(7);
    expect(NF4_VALUES[7]).toBe(0);
    expect(codeBits("nf4")).toBe(4);
    expect(formatMax("nf4")).toBe(1);
  });

  it("round-trips its own values exactly and rounds everything else to the nearest value", () => {
    const exact = Float32Array.from({ length: 64 }, (_, i) => NF4_VALUES[i % 16] * 3);
    const q = quantize(exact, { format: "nf4", granularity: G64 }, { shape: [1, 64] });
    expect(q.scales[0]).toBe(3);
    expect(Array.from(q.dequantize())).toEqual(Array.from(exact));
    expect(Array.from(q.codeValues())).toEqual(Array.from({ length: 64 }, (_, i) => i % 16));
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 256 }, () => rng.normal());
    const r = quantize(x, { format: "nf4", granularity: G64 }, { shape: [2, 128] });
    const deq = r.dequantize();
    for (let i = 0; i < x.length; i++) {
      const s = r.scales[Math.floor(i / 64)];
      const best = Math.min(...NF4_VALUES.map((v) => Math.abs(v * s - x[i])));
      expect(Math.abs(deq[i] - x[i])).toBeCloseTo(best, 6);
    }
  });

  it("stores 4 bits a weight plus the scales: 4.5 (fp32) or 4.25 (fp16) bits at block size 64", () => {
    const x = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    expect(quantize(x, { format: "nf4", granularity: G64 }, { shape: [1, 128] }).bitsPerWeight()).toBe(4.5);
    expect(
      quantize(x, { format: "nf4", granularity: G64, scaleFormat: "fp16" }, { shape: [1, 128] }).bitsPerWeight(),
    ).toBe(4.25);
  });

  it("quantizes normally distributed weights with less error than INT4 at the same block size", () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 64 * 256 }, () => rng.normal());
    const mse = (format: "nf4" | "int4") => {
      const d = quantize(x, { format, granularity: G64 }, { shape: [256, 64] }).dequantize();
      return d.reduce((s, v, i) => s + (v - x[i]) ** 2, 0) / x.length;
    };
    expect(mse("nf4")).toBeLessThan(0.8 * mse("int4"));
  });

  it("is symmetric only (absmax scaling), and rejects NaN", () => {
    expect(() =>
      quantize(new Float32Array(64), { format: "nf4", granularity: G64, symmetric: false }, { shape: [1, 64] }),
    ).toThrow(/nf4 is symmetric/);
    expect(() => quantize(Float32Array.from([NaN, 1]), { format: "nf4" })).toThrow(/cannot hold NaN/);
  });
});
