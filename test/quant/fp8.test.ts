// FP8 E4M3/E5M2 against the OCP OFP8 specification: all 256 codes of each format, hand-derived codes of the boundary
// values (max, max + ½ulp, smallest subnormal and half of it, ties), exact round trips, a brute-force nearest-value
// oracle, ±0/NaN/±Inf in both overflow modes, tensor versions and named errors.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { fp8Decode, fp8DecodeTensor, fp8Encode, fp8EncodeTensor, fp8Values } from "../../lib/quant/fp8";
import { Rng } from "../../lib/random";

/** The OCP value of a code, from the spec's field definitions (independent of the library's decoder). */
function ocpValue(format: "e4m3" | "e5m2", code: number): number {
  const [eb, mb, bias] = format === "e4m3" ? [4, 3, 7] : [5, 2, 15];
  const s = code >> 7 ? -1 : 1;
  const e = (code >> mb) & ((1 << eb) - 1);
  const m = code & ((1 << mb) - 1);
  if (format === "e4m3" && e === 15 && m === 7) return NaN;
  if (format === "e5m2" && e === 31) return m === 0 ? s * Infinity : NaN;
  return e === 0 ? s * 2 ** (1 - bias) * (m / 2 ** mb) : s * 2 ** (e - bias) * (1 + m / 2 ** mb);
}

const f32 = (...v: number[]) => new Float32Array(v);
const enc = (format: "e4m3" | "e5m2", saturate: boolean, ...v: number[]) =>
  Array.from(fp8Encode(f32(...v), format, { saturate }));
/** The float32 right above / below x. */
const nextUp = (x: number) => new Float32Array(new Uint32Array([new Uint32Array(f32(x).buffer)[0] + 1]).buffer)[0];
const nextDown = (x: number) => new Float32Array(new Uint32Array([new Uint32Array(f32(x).buffer)[0] - 1]).buffer)[0];

describe("fp8Decode", () => {
  for (const format of ["e4m3", "e5m2"] as const) {
    it(`decodes all 256 ${format} codes to the OCP values`, () => {
      const decoded = fp8Decode(
        Uint8Array.from({ length: 256 }, (_, i) => i),
        format,
      );
      for (let c = 0; c < 256; c++) {
        const want = ocpValue(format, c);
        if (Number.isNaN(want)) expect(decoded[c], `code ${c}`).toBeNaN();
        else expect(Object.is(decoded[c], want), `code 0x${c.toString(16)}: ${decoded[c]} vs ${want}`).toBe(true);
      }
    });
  }

  it("has the landmark values of DESIGN.md §3", () => {
    const e4 = fp8Values("e4m3");
    expect([e4[0x7e], e4[0x01], e4[0x08], e4[0x38], e4[0xfe]]).toEqual([448, 2 ** -9, 2 ** -6, 1, -448]);
    expect(Object.is(e4[0x80], -0)).toBe(true);
    expect([...e4].filter(Number.isNaN).length).toBe(2); // S.1111.111 only; no Inf
    expect([...e4].some((v) => !Number.isFinite(v) && !Number.isNaN(v))).toBe(false);
    const e5 = fp8Values("e5m2");
    expect([e5[0x7b], e5[0x7c], e5[0xfc], e5[0x01], e5[0x04], e5[0x3c]]).toEqual([
      57344,
      Infinity,
      -Infinity,
      2 ** -16,
      2 ** -14,
      1,
    ]);
    expect([...e5].filter(Number.isNaN).length).toBe(6); // S.11111.{01,10,11}
  });
});

describe("fp8Encode boundary values (hand-derived codes)", () => {
  it("E4M3: max, max + ½ulp (tie → even 448), just above it, overflow modes", () => {
    expect(enc("e4m3", true, 448, 464, nextUp(464), 480, 1e9, Infinity, -Infinity)).toEqual([
      0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0xfe,
    ]);
    expect(enc("e4m3", false, 448, 464, nextUp(464), 480, 1e9, Infinity, -Infinity)).toEqual([
      0x7e, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0xff,
    ]);
    expect(enc("e4m3", true, -464, nextDown(-464))).toEqual([0xfe, 0xfe]);
  });

  it("E4M3: smallest subnormal, half of it (tie → 0), subnormal ties, the carry into the normal range", () => {
    const q = 2 ** -9;
    expect(enc("e4m3", true, q, q / 2, nextUp(q / 2), 1.5 * q, 2.5 * q, 7.5 * q, 2 ** -6)).toEqual([
      0x01, 0x00, 0x01, 0x02, 0x02, 0x08, 0x08,
    ]);
    expect(enc("e4m3", true, -q / 2, -0, 0)).toEqual([0x80, 0x80, 0x00]);
  });

  it("E4M3: ties between normal values go to the even mantissa", () => {
    expect(enc("e4m3", true, 1, 1 + 1 / 16, 1 + 3 / 16, nextUp(1 + 1 / 16), 1.9375, -(1 + 3 / 16))).toEqual([
      0x38, 0x38, 0x3a, 0x39, 0x40, 0xba,
    ]);
  });

  it("E5M2: max, max + ½ulp (tie → even = overflow), subnormals, Inf in both modes", () => {
    expect(enc("e5m2", false, 57344, nextDown(61440), 61440, Infinity, -Infinity)).toEqual([
      0x7b, 0x7b, 0x7c, 0x7c, 0xfc,
    ]);
    expect(enc("e5m2", true, 57344, 61440, 1e30, Infinity, -Infinity)).toEqual([0x7b, 0x7b, 0x7b, 0x7b, 0xfb]);
    const q = 2 ** -16;
    expect(enc("e5m2", true, q, q / 2, nextUp(q / 2), 3.5 * q, 2 ** -14)).toEqual([0x01, 0x00, 0x01, 0x04, 0x04]);
  });

  it("NaN in → NaN out, in both modes and formats", () => {
    for (const format of ["e4m3", "e5m2"] as const) {
      for (const saturate of [true, false]) {
        const [code] = fp8Encode(f32(NaN), format, { saturate });
        expect(fp8Decode(Uint8Array.of(code), format)[0]).toBeNaN();
      }
    }
  });
});

describe("fp8Encode against oracles", () => {
  for (const format of ["e4m3", "e5m2"] as const) {
    it(`${format}: the round trip is exact for every representable value`, () => {
      const values = fp8Values(format);
      const codes = Uint8Array.from({ length: 256 }, (_, i) => i).filter((c) => Number.isFinite(values[c]));
      expect(Array.from(fp8Encode(fp8Decode(codes, format), format))).toEqual(Array.from(codes));
      const inf = Uint8Array.from([0x7c, 0xfc]).filter(() => format === "e5m2");
      expect(Array.from(fp8Encode(fp8Decode(inf, format), format, { saturate: false }))).toEqual(Array.from(inf));
    });

    it(`${format}: matches a brute-force nearest-value search (ties to the even code) on midpoints and random values`, () => {
      const table = fp8Values(format);
      const finite = [...table.keys()]
        .filter((c) => Number.isFinite(table[c]) && c < 0x80)
        .sort((a, b) => table[a] - table[b]);
      const nearest = (x: number): number => {
        let best = finite[0];
        for (const c of finite) {
          const d = Math.abs(Math.abs(x) - table[c]);
          const db = Math.abs(Math.abs(x) - table[best]);
          if (d < db || (d === db && (c & 1) === 0)) best = c;
        }
        return best | (x < 0 || Object.is(x, -0) ? 0x80 : 0);
      };
      const rng = new Rng(7);
      const xs: number[] = [];
      for (let i = 1; i < finite.length; i++) {
        const mid = Math.fround((table[finite[i - 1]] + table[finite[i]]) / 2);
        xs.push(mid, nextUp(mid), nextDown(mid), -mid);
      }
      const max = table[finite[finite.length - 1]];
      for (let i = 0; i < 4000; i++)
        xs.push(Math.fround((rng.uniform() * 2 - 1) * max * 2 ** -rng.int(format === "e4m3" ? 14 : 26)));
      const codes = fp8Encode(new Float32Array(xs), format);
      xs.forEach((x, i) => {
        if (codes[i] !== nearest(x))
          expect.fail(`${format} encode(${x}) = 0x${codes[i].toString(16)}, nearest is 0x${nearest(x).toString(16)}`);
      });
    });
  }
});

describe("fp8 tensor versions and errors", () => {
  it("encode/decode tensors keep the shape and agree with the array functions", () => {
    const x = tf.tensor2d([
      [0.1, -300],
      [1e-4, 500],
    ]);
    const codes = fp8EncodeTensor(x, "e4m3");
    expect(codes.dtype).toBe("int32");
    expect(codes.shape).toEqual([2, 2]);
    expect(Array.from(codes.dataSync())).toEqual(Array.from(fp8Encode(x.dataSync() as Float32Array, "e4m3")));
    const back = fp8DecodeTensor(codes, "e4m3");
    expect(Array.from(back.dataSync())).toEqual(
      Array.from(fp8Decode(fp8Encode(x.dataSync() as Float32Array, "e4m3"), "e4m3")),
    );
    expect(back.dataSync()[3]).toBe(448); // saturated by default
    tf.dispose([x, codes, back]);
  });

  it("names the function and argument on bad input", () => {
    expect(() => fp8Encode(f32(1), "e3m4" as never)).toThrow(
      /fp8Encode\(values, format, opts\): format must be one of "e4m3", "e5m2", got "e3m4"/,
    );
    expect(() => fp8Decode(Uint8Array.of(1), "fp8" as never)).toThrow(
      /fp8Decode\(codes, format\): format must be one of/,
    );
    expect(() => fp8Encode([1, 2] as never, "e4m3")).toThrow(
      /fp8Encode\(values, format, opts\): values must be a Float32Array, got Array/,
    );
    expect(() => fp8DecodeTensor(tf.tensor1d([1.5]), "e4m3")).toThrow(/codes must be int32/);
    expect(() => fp8DecodeTensor(tf.tensor1d([256], "int32"), "e4m3")).toThrow(
      /codes must be in \[0, 255\], got 256 at index 0/,
    );
  });
});
