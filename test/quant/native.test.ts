// The quantization kernels of the native addon (native/src/quant_*.cc) against the JavaScript reference paths:
// FP8 encode over random float32 bit patterns (NaN, Inf, subnormals included) with block scales, decode, block amax,
// INT8 quantize, the int8 GEMM (VNNI tiles with every edge shape) and the emulated FP8 accumulation.
// test/quant/native-isa.test.ts reruns this file with MOELAB_ISA=avx2 and =scalar.
import { describe, expect, it } from "vitest";
import { FP8_SPECS } from "../../lib/quant/formats";
import { encodeValue, fp8Values } from "../../lib/quant/fp8";
import { fp8GemmAccumulateJs } from "../../lib/quant/fp8-gemm";
import { blockAmaxJs, blockLayout, TILE_1X128 } from "../../lib/quant/granularity";
import { quantAddon } from "../../lib/quant/native";
import { roundHalfEven } from "../../lib/quant/round";
import { int8MatmulJs } from "../../lib/quant/w8a8";
import { Rng } from "../../lib/random";

const addon = quantAddon();
if (!addon) throw new Error("the native addon with the quant kernels is not built (npm run build:native)");

function randomBits(rng: Rng, n: number): Float32Array {
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = rng.uint32();
  return new Float32Array(u.buffer);
}

describe(`native quant kernels (int8 GEMM: ${addon.int8GemmKernel()})`, () => {
  it("fp8Quantize equals the JavaScript encoder on 2^18 random bit patterns, per-tensor and with 1×128 scales", () => {
    const rng = new Rng(3);
    const x = randomBits(rng, 1 << 18);
    x.set([0, -0, Infinity, -Infinity, NaN, 448, 464, 61440, 2 ** -10, 2 ** -17], 0);
    const layout = blockLayout("test", [x.length / 256, 256], TILE_1X128);
    const scales = Float32Array.from({ length: layout.blocks }, () => Math.fround(2 ** (rng.uniform() * 60 - 30)));
    scales[0] = 1;
    for (const format of ["e4m3", "e5m2"] as const) {
      for (const saturate of [true, false]) {
        const codes = new Uint8Array(x.length);
        addon.fp8Quantize(x, codes, scales, layout.rows, layout.cols, 1, 128, format === "e4m3" ? 0 : 1, saturate);
        for (let i = 0; i < x.length; i++) {
          const want = encodeValue(FP8_SPECS[format], Math.fround(x[i] / scales[Math.floor(i / 128)]), saturate);
          if (codes[i] !== want)
            expect.fail(
              `${format} saturate=${saturate}: x[${i}] = ${x[i]}: native 0x${codes[i].toString(16)}, js 0x${want.toString(16)}`,
            );
        }
      }
    }
  });

  it("fp8Dequantize decodes every code times its block scale", () => {
    const codes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    const scales = new Float32Array([0.5, 3]);
    const out = new Float32Array(512);
    addon.fp8Dequantize(codes, scales, out, 2, 256, 1, 256, 1);
    const table = fp8Values("e5m2");
    out.forEach((v, i) =>
      expect(Object.is(v, table[i % 256] * scales[i >> 8]) || (Number.isNaN(v) && Number.isNaN(table[i % 256]))).toBe(
        true,
      ),
    );
  });

  it("blockAmax equals the JavaScript block maxima (NaN ignored, short last block strip)", () => {
    const rng = new Rng(4);
    const x = Float32Array.from({ length: 300 * 256 }, () => rng.normal() * 10);
    x[17] = NaN;
    const layout = blockLayout("test", [300, 256], { kind: "block", size: 128 });
    const amax = new Float32Array(layout.blocks);
    addon.blockAmax(x, amax, 300, 256, 128, 128);
    expect(Array.from(amax)).toEqual(Array.from(blockAmaxJs(x, layout)));
  });

  it("int8Quantize rounds half to even and clamps to ±127", () => {
    const x = new Float32Array([0.5, 1.5, 2.5, -2.5, -0.5, 126.5, 127.5, 1000, -1000, 3.49999]);
    const codes = new Int8Array(x.length);
    addon.int8Quantize(x, codes, new Float32Array([1]), 1, x.length, 1, x.length);
    expect(Array.from(codes)).toEqual([0, 2, 2, -2, 0, 126, 127, 127, -127, 3]);
    const rng = new Rng(5);
    const y = Float32Array.from({ length: 64 * 128 }, () => rng.normal() * 50);
    const scales = Float32Array.from({ length: 64 }, () => Math.fround(0.2 + rng.uniform()));
    const q = new Int8Array(y.length);
    addon.int8Quantize(y, q, scales, 64, 128, 1, 128);
    q.forEach((c, i) =>
      expect(c).toBe(Math.max(-127, Math.min(127, roundHalfEven(Math.fround(y[i] / scales[i >> 7])))) + 0),
    );
  });

  it("int8Gemm equals exact int32 products for edge shapes and extreme values", () => {
    const rng = new Rng(6);
    for (const [m, n, k] of [
      [1, 1, 1],
      [5, 7, 70],
      [4, 4, 64],
      [3, 9, 129],
      [9, 6, 200],
      [37, 33, 300],
      [1, 130, 1024],
    ]) {
      const a = Int8Array.from({ length: m * k }, () => rng.int(256) - 128);
      const b = Int8Array.from({ length: n * k }, () => rng.int(256) - 128);
      a[0] = -128;
      b[0] = -128;
      const got = new Int32Array(m * n);
      const want = new Int32Array(m * n);
      addon.int8Gemm(a, b, got, m, n, k);
      int8MatmulJs(a, b, want, m, n, k);
      expect(Array.from(got), `${m}×${n}×${k}`).toEqual(Array.from(want));
    }
  });

  it("fp8GemmEmulated equals the JavaScript accumulation for each interval, precision and rounding", () => {
    const rng = new Rng(8);
    const [m, n, k] = [3, 21, 300];
    const a = Float32Array.from({ length: m * k }, () => Math.fround(rng.normal()));
    const b = Float32Array.from({ length: n * k }, () => Math.fround(rng.normal()));
    for (const [interval, bits, truncate] of [
      [1, 23, true],
      [7, 13, true],
      [128, 13, false],
      [300, 10, true],
      [1000, 5, false],
    ] as const) {
      const out = new Float32Array(m * n);
      addon.fp8GemmEmulated(a, b, out, m, n, k, interval, bits, truncate);
      expect(Array.from(out), `interval ${interval}, ${bits} bits, truncate ${truncate}`).toEqual(
        Array.from(fp8GemmAccumulateJs(a, b, m, n, k, interval, bits, truncate)),
      );
    }
  });

  it("rejects bad arguments with errors naming the kernel", () => {
    expect(() => addon.int8Gemm(new Int8Array(4), new Int8Array(4), new Int32Array(1), 2, 2, 2)).toThrow(
      /int8Gemm: a must hold m·k/,
    );
    expect(() =>
      addon.fp8Quantize(new Float32Array(4), new Uint8Array(4), new Float32Array(1), 1, 4, 1, 3, 0, true),
    ).toThrow(/fp8Quantize: groupRows and groupCols/);
    expect(() => addon.blockAmax(new Float32Array(4), new Uint8Array(1) as never, 1, 4, 1, 4)).toThrow(
      /blockAmax: argument 1 must be a Float32Array/,
    );
    expect(() =>
      addon.fp8GemmEmulated(new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1, 1, 0, 13, true),
    ).toThrow(/interval must be ≥ 1/);
  });
});
