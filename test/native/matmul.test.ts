// Parity of the native BatchMatMul and _FusedMatMul kernels (lib/native/kernels/matmul.ts on native/src/gemm*.cc)
// with a float64 reference and with tfjs's cpu backend: every transpose combination, odd sizes, batch broadcasting
// (the mixed case only against the reference: tfjs cpu gets it wrong), k = 0, empty outputs, every fused activation,
// gradients. matmul-isa.test.ts reruns this file with MOELAB_ISA=avx2 and =scalar.
//
// Tolerance: |native − reference| ≤ 1e-5 · (scale + |reference|) per element, where scale = Σ_p |a_ip·b_pj| + |bias|
// (the size of the terms a float32 dot product rounds), so outputs that cancel to near 0 are judged by their terms.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { nativeAddon } from "../../lib/native/addon";
import { quantError } from "../../lib/quant/error";
import { matmulBf16 } from "../../lib/ops/matmul-bf16";
import {
  matmulBf16Engine,
  matmulBf16Support,
  type FusedActivation,
  type MatmulAddon,
  type MatmulOperand,
} from "../../lib/native/kernels/matmul";
import { Rng } from "../../lib/random";
import { addonCalls } from "./kernel-parity";

const TOL = 1e-5;
const ODD_SIZES = [1, 3, 17, 31, 33, 65, 127, 129, 257];
const ACTIVATIONS: FusedActivation[] = ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"];

interface Data {
  values: Float32Array;
  shape: number[];
}

interface Reference {
  values: Float64Array;
  scale: Float64Array;
  shape: number[];
}

interface Product {
  a: Data;
  b: Data;
  transposeA: boolean;
  transposeB: boolean;
  bias?: Data;
  activation?: FusedActivation;
  prelu?: Data;
  alpha?: number;
}

const rng = new Rng(3);

function random(shape: number[]): Data {
  const n = shape.reduce((x, y) => x * y, 1);
  return { values: Float32Array.from({ length: n }, () => rng.normal()), shape };
}

function operandShapes(m: number, n: number, k: number, transposeA: boolean, transposeB: boolean) {
  return { a: transposeA ? [k, m] : [m, k], b: transposeB ? [n, k] : [k, n] };
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

// The flat index of `shape`'s element under the output coordinate `coord` (numpy broadcasting, right-aligned).
function broadcastIndex(shape: number[], coord: number[]): number {
  const lead = coord.length - shape.length;
  const st = strides(shape);
  let index = 0;
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) index += coord[d + lead] * st[d];
  return index;
}

function broadcastShape(x: number[], y: number[]): number[] {
  const rank = Math.max(x.length, y.length);
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dx = x[d - rank + x.length] ?? 1;
    const dy = y[d - rank + y.length] ?? 1;
    if (dx !== dy && dx !== 1 && dy !== 1) throw new Error(`shapes ${x} and ${y} do not broadcast`);
    out.push(dx === 1 ? dy : dx);
  }
  return out;
}

function activate(x: number, activation: FusedActivation, alpha: number, slope: number): number {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return Math.max(0, x);
    case "relu6":
      return Math.min(Math.max(0, x), 6);
    case "elu":
      return x >= 0 ? x : Math.expm1(x);
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "leakyrelu":
      return x < 0 ? alpha * x : x;
    case "prelu":
      return x < 0 ? slope * x : x;
  }
}

/** The product in float64, written independently of the kernels' broadcasting code. */
function reference(p: Product): Reference {
  const ar = p.a.shape.length;
  const br = p.b.shape.length;
  const m = p.transposeA ? p.a.shape[ar - 1] : p.a.shape[ar - 2];
  const k = p.transposeA ? p.a.shape[ar - 2] : p.a.shape[ar - 1];
  const n = p.transposeB ? p.b.shape[br - 2] : p.b.shape[br - 1];
  const aBatch = p.a.shape.slice(0, -2);
  const bBatch = p.b.shape.slice(0, -2);
  const outBatch = broadcastShape(aBatch, bBatch);
  const shape = [...outBatch, m, n];
  const size = shape.reduce((x, y) => x * y, 1);
  const values = new Float64Array(size);
  const scale = new Float64Array(size);
  const st = strides(shape);
  const aStep = p.transposeA ? m : 1;
  const bStep = p.transposeB ? 1 : n;
  for (let flat = 0; flat < size; flat++) {
    const coord = shape.map((_, d) => Math.floor(flat / st[d]) % shape[d]);
    const batchCoord = coord.slice(0, -2);
    const [i, j] = coord.slice(-2);
    let ai = broadcastIndex(aBatch, batchCoord) * m * k + (p.transposeA ? i : i * k);
    let bi = broadcastIndex(bBatch, batchCoord) * k * n + (p.transposeB ? j * k : j);
    let sum = 0;
    let abs = 0;
    for (let q = 0; q < k; q++, ai += aStep, bi += bStep) {
      const xy = p.a.values[ai] * p.b.values[bi];
      sum += xy;
      abs += Math.abs(xy);
    }
    if (p.bias) {
      const bias = p.bias.values[broadcastIndex(p.bias.shape, coord)];
      sum += bias;
      abs += Math.abs(bias);
    }
    const slope = p.prelu ? p.prelu.values[broadcastIndex(p.prelu.shape, coord)] : 0;
    values[flat] = activate(sum, p.activation ?? "linear", p.alpha ?? 0.2, slope);
    scale[flat] = abs;
  }
  return { values, scale, shape };
}

/** Runs the product on `backend` through tf.matMul (no epilogue) or tf.fused.matMul; returns values and shape. */
async function run(backend: "cpu" | "native", p: Product): Promise<Data> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const t = (d: Data) => tf.tensor(d.values, d.shape);
    const y =
      p.bias || p.activation
        ? tf.fused.matMul({
            a: t(p.a) as tf.Tensor2D,
            b: t(p.b) as tf.Tensor2D,
            transposeA: p.transposeA,
            transposeB: p.transposeB,
            bias: p.bias && t(p.bias),
            activation: p.activation,
            preluActivationWeights: p.prelu && t(p.prelu),
            leakyreluAlpha: p.alpha,
          })
        : tf.matMul(t(p.a), t(p.b), p.transposeA, p.transposeB);
    return { values: Float32Array.from(y.dataSync()), shape: y.shape };
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function expectMatches(actual: Data, ref: Reference, label: string): void {
  expect(actual.shape, label).toEqual(ref.shape);
  for (let i = 0; i < ref.values.length; i++) {
    const err = Math.abs(actual.values[i] - ref.values[i]);
    if (!(err <= TOL * (ref.scale[i] + Math.abs(ref.values[i])))) {
      expect.fail(`${label}: element ${i} is ${actual.values[i]}, expected ${ref.values[i]} (scale ${ref.scale[i]})`);
    }
  }
}

/** Native equals the float64 reference and (unless cpu is known wrong for it) the cpu backend. */
async function check(p: Product, label: string, againstCpu = true): Promise<void> {
  const ref = reference(p);
  expectMatches(await run("native", p), ref, `native ${label}`);
  if (againstCpu) {
    const cpu = await run("cpu", p);
    expectMatches(cpu, ref, `cpu ${label} (reference self-check)`);
  }
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

function product(
  m: number,
  n: number,
  k: number,
  transposeA: boolean,
  transposeB: boolean,
  batchA: number[] = [],
  batchB: number[] = [],
): Product {
  const s = operandShapes(m, n, k, transposeA, transposeB);
  return { a: random([...batchA, ...s.a]), b: random([...batchB, ...s.b]), transposeA, transposeB };
}

const tag = (p: Product) => `a[${p.a.shape}]${p.transposeA ? "ᵀ" : ""} b[${p.b.shape}]${p.transposeB ? "ᵀ" : ""}`;

beforeAll(async () => {
  await useBackend("native");
});

describe("native matmul kernel family", () => {
  it("uses the micro-kernel MOELAB_ISA asks for", () => {
    const addon = nativeAddon() as unknown as MatmulAddon;
    const expected = { avx2: "avx2", scalar: "portable" }[process.env.MOELAB_ISA ?? ""];
    if (expected) expect(addon.matmulKernel()).toBe(expected);
    else expect(["avx512", "avx2", "portable"]).toContain(addon.matmulKernel());
  });
});

describe("native BatchMatMul", () => {
  it("matches on odd sizes in every transpose combination", async () => {
    for (let i = 0; i < ODD_SIZES.length; i++) {
      const [x, y, z] = [ODD_SIZES[i], ODD_SIZES[(i + 3) % 9], ODD_SIZES[(i + 6) % 9]];
      for (const [m, n, k] of [
        [x, y, z],
        [z, x, y],
        [y, z, x],
      ]) {
        for (const [ta, tb] of TRANSPOSES) {
          const p = product(m, n, k, ta, tb);
          await check(p, tag(p));
        }
      }
    }
  });

  it("matches on size 1 and on shapes that take every blocking and threading path", async () => {
    // Products above 3e7 flops run on the pool (native/src/gemm.cc kParallelFlops).
    const shapes: [number, number, number][] = [
      [1, 1, 1], // smallest
      [1, 300, 300], // one row: B read in place
      [17, 1024, 1031], // few rows: columns split over threads, several depth blocks
      [300, 160, 513], // rows split over threads, several depth blocks
      [7, 1100, 2049], // several column blocks of packed B (a row-major B is read in place instead)
      [97, 83, 4099], // depth ≥ 4× both sides (a weight gradient): depth chunks over threads, partial sums added
      [2, 1100, 1031], // few rows: a transposed B read in place, several depth blocks, columns over threads (n·k ≥ 2¹⁷)
    ];
    for (const [m, n, k] of shapes) {
      for (const [ta, tb] of TRANSPOSES.filter(([, tb]) => tb || k < 2049)) {
        const p = product(m, n, k, ta, tb);
        await check(p, tag(p), m * n * k < 1e6); // cpu (~1 GFLOP/s) only on the small ones: the reference is the oracle
      }
    }
  });

  it("gives each row of a few-row product with a transposed B the bits the packed path gives it", () => {
    // Up to one micro-panel of rows (14 on AVX-512, 6 on AVX2, 4 portable) read a column-contiguous B in place
    // (native/src/gemm.cc gemm_few_rows); 40 rows pack it. A row decoded alone must equal the same row in a batch.
    const addon = nativeAddon() as unknown as MatmulAddon;
    const one = new Float64Array(1);
    const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
    const big = 40;
    // [n, k]: one column; a partial vector of columns; odd sizes; two and three depth blocks; ≥ 2¹⁷ floats (on the pool: a decode-sized weight, and a deep one)
    for (const [n, k] of [
      [1, 1],
      [17, 16],
      [300, 33],
      [47, 513],
      [768, 256],
      [1100, 1031],
    ]) {
      const a = random([big, k]).values; // [big, k]
      const aT = new Float32Array(k * big); // [k, big]
      for (let i = 0; i < big; i++) for (let p = 0; p < k; p++) aT[p * big + i] = a[i * k + p];
      const b = random([n, k]).values; // [n, k]: B stored transposed
      const bias: MatmulOperand = { data: random([n]).values, offsets: one, rowStride: 0, colStride: 1 };
      for (const epilogue of [undefined, { activation: "elu" as const, bias }]) {
        for (const transA of [false, true]) {
          const full = new Float32Array(big * n);
          addon.matmul(transA ? aT : a, b, full, big, n, k, transA, true, one, one, epilogue);
          for (const m of [1, 2, 3, 4, 5, 6, 7, 13, 14, 15]) {
            const am = transA ? new Float32Array(k * m) : a.slice(0, m * k); // [k, m] or [m, k]
            if (transA) for (let p = 0; p < k; p++) am.set(aT.subarray(p * big, p * big + m), p * m);
            const rows = new Float32Array(m * n);
            addon.matmul(am, b, rows, m, n, k, transA, true, one, one, epilogue);
            const want = bits(full.subarray(0, m * n));
            const got = bits(rows);
            const bad = got.findIndex((x, i) => x !== want[i]);
            if (bad >= 0)
              expect.fail(
                `m ${m}, n ${n}, k ${k}, transA ${transA}, epilogue ${!!epilogue}: element ${bad} is ${rows[bad]}, the ${big}-row product has ${full[bad]}`,
              );
          }
        }
      }
    }
  });

  it("broadcasts batch dimensions, including mixed ones tfjs cpu gets wrong", async () => {
    const cases: [number[], number[], boolean][] = [
      [[3], [], true],
      [[], [4], true],
      [[2, 3], [3], true],
      [[5], [5], true],
      [[2, 1], [1, 3], false], // mixed: cpu computes 3 products instead of 6
      [[4, 1, 2], [3, 1], false],
      [[1, 2, 1], [3, 1, 4], false],
    ];
    for (const [batchA, batchB, againstCpu] of cases) {
      for (const [ta, tb] of TRANSPOSES) {
        const p = product(5, 7, 9, ta, tb, batchA, batchB);
        await check(p, tag(p), againstCpu);
      }
    }
    const big = product(64, 64, 80, false, true, [2, 1, 3], [1, 4, 1]); // 24 products, 1.6e7 flops: one per pool task
    await check(big, tag(big), false);
  });

  it("returns zeros for k = 0 and empty tensors for empty outputs", async () => {
    const cases: Product[] = [
      product(3, 4, 0, false, false),
      product(3, 4, 0, true, true, [2]),
      product(0, 4, 5, false, false),
      product(3, 0, 5, true, false),
      product(3, 4, 5, false, true, [0]),
      product(3, 4, 5, false, false, [2, 0], [1]),
    ];
    for (const p of cases) await check(p, tag(p));
    expect(Array.from((await run("native", cases[0])).values)).toEqual(new Array(12).fill(0));
  });

  it("runs float32 products on the addon and others on the cpu kernel", async () => {
    await tf.setBackend("native");
    const calls = await addonCalls(["matmul"], async () =>
      tf.tidy(() => {
        tf.matMul(tf.ones([3, 4]), tf.ones([4, 5])).dataSync();
        tf.fused
          .matMul({
            a: tf.ones([3, 4]) as tf.Tensor2D,
            b: tf.ones([4, 5]) as tf.Tensor2D,
            bias: tf.ones([5]),
            activation: "relu",
          })
          .dataSync();
        tf.matMul(tf.ones([2, 2], "int32"), tf.ones([2, 2], "int32")).dataSync();
      }),
    );
    expect(calls.matmul).toBe(2);
  });

  it("runs int32 products on the cpu kernel", async () => {
    await tf.setBackend("native");
    const y = tf.tidy(() =>
      tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"), tf.tensor2d([5, 6, 7, 8], [2, 2], "int32")),
    );
    expect(y.dtype).toBe("int32");
    expect(Array.from(y.dataSync())).toEqual([19, 22, 43, 50]);
    y.dispose();
  });

  it("rejects mismatched inner dimensions and rank < 2 with clear errors", async () => {
    await tf.setBackend("native");
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes \(3\) and \(4\)/);
    expect(() => tf.matMul(tf.ones([3]), tf.ones([3, 2]))).toThrow(/rank >= 2/);
  });
});

describe("native _FusedMatMul", () => {
  it("matches every activation, with and without bias, for every transpose combination", async () => {
    for (const activation of ACTIVATIONS) {
      for (const withBias of [false, true]) {
        for (const [ta, tb] of TRANSPOSES) {
          const p: Product = {
            ...product(33, 17, 65, ta, tb),
            activation,
            alpha: 0.3,
            bias: withBias ? random([17]) : undefined,
            prelu: activation === "prelu" ? random([17]) : undefined,
          };
          await check(p, `${activation} bias=${withBias} ${tag(p)}`);
        }
      }
    }
  });

  it("broadcasts bias and prelu slopes of every shape over the output", async () => {
    const biasShapes = [[], [1], [9], [1, 9], [7, 1], [7, 9], [3, 7, 9], [3, 1, 9], [1, 1, 7, 9]];
    for (const shape of biasShapes) {
      const p: Product = {
        ...product(7, 9, 11, false, false, [3]),
        bias: random(shape),
        activation: "prelu",
        prelu: random(shape),
      };
      await check(p, `bias/prelu [${shape}]`);
    }
  });

  it("applies the epilogue alone when k = 0", async () => {
    for (const activation of ACTIVATIONS) {
      const p: Product = { ...product(4, 6, 0, false, false), bias: random([6]), activation, prelu: random([4, 6]) };
      await check(p, `k=0 ${activation}`);
    }
  });

  // Against the reference only: cpu's elu computes Math.exp(x) − 1, which is 0 for |x| < 1e-16.
  it("computes the activations accurately over their whole range", async () => {
    const xs = [-100, -30, -10, -3, -1, -0.5, -0.4, -1e-3, -1e-6, -1e-30, 0, 1e-6, 0.2, 0.5, 1, 3, 6, 10, 40, 100];
    for (const activation of ACTIVATIONS) {
      const p: Product = {
        a: { values: Float32Array.from(xs), shape: [xs.length, 1] },
        b: { values: Float32Array.of(1), shape: [1, 1] },
        transposeA: false,
        transposeB: false,
        activation,
        alpha: 0.1,
        prelu: { values: Float32Array.of(0.25), shape: [1] },
      };
      await check(p, `pointwise ${activation}`, false);
    }
  });
});

describe("gradients on native equal gradients on cpu", () => {
  // Relative to the largest gradient entry: both backends accumulate in float32.
  function expectGradsClose(native: Float32Array[], cpu: Float32Array[]): void {
    expect(native.length).toBe(cpu.length);
    native.forEach((g, i) => {
      const scale = Math.max(...cpu[i].map(Math.abs), 1e-30);
      for (let j = 0; j < g.length; j++) expect(Math.abs(g[j] - cpu[i][j]) / scale).toBeLessThanOrEqual(TOL);
    });
  }

  async function gradients(
    backend: "cpu" | "native",
    f: (...xs: tf.Tensor[]) => tf.Tensor,
    inputs: Data[],
  ): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const xs = inputs.map((d) => tf.tensor(d.values, d.shape));
      return tf
        .grads(f)(xs)
        .map((g) => Float32Array.from(g.dataSync()));
    });
    expect(tf.memory().numTensors).toBe(before);
    return out;
  }

  it("of tf.matMul in every transpose combination, batched", async () => {
    for (const [ta, tb] of TRANSPOSES) {
      const p = product(13, 19, 23, ta, tb, [2], [2]);
      const w = random([2, 13, 19]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, ta, tb), tf.tensor(w.values, w.shape)));
      expectGradsClose(await gradients("native", f, [p.a, p.b]), await gradients("cpu", f, [p.a, p.b]));
    }
  });

  it("of tf.fused.matMul with bias, linear (fused) and relu", async () => {
    for (const activation of ["linear", "relu"] as const) {
      for (const [ta, tb] of TRANSPOSES) {
        const p = product(21, 11, 35, ta, tb);
        const bias = random([11]);
        const w = random([21, 11]);
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.fused.matMul({
                a: a as tf.Tensor2D,
                b: b as tf.Tensor2D,
                transposeA: ta,
                transposeB: tb,
                bias: c,
                activation,
              }),
              tf.tensor(w.values, w.shape),
            ),
          );
        expectGradsClose(await gradients("native", f, [p.a, p.b, bias]), await gradients("cpu", f, [p.a, p.b, bias]));
      }
    }
  });
});

describe("native matmul addon argument checks", () => {
  const addon = () => nativeAddon() as unknown as MatmulAddon;
  const f32 = (n: number) => new Float32Array(n);
  const at = (...o: number[]) => Float64Array.from(o);

  it("rejects offsets that would read past an input", () => {
    expect(() => addon().matmul(f32(6), f32(6), f32(4), 2, 2, 3, false, false, at(1), at(0))).toThrow(/aOffsets\[0\]/);
    expect(() => addon().matmul(f32(6), f32(6), f32(8), 2, 2, 3, false, false, at(0, 0), at(0, 6))).toThrow(
      /bOffsets\[1\]/,
    );
  });

  it("rejects a wrong output size, mismatched batches and bad epilogues", () => {
    expect(() => addon().matmul(f32(6), f32(6), f32(5), 2, 2, 3, false, false, at(0), at(0))).toThrow(/out has 5/);
    expect(() => addon().matmul(f32(6), f32(6), f32(8), 2, 2, 3, false, false, at(0, 0), at(0))).toThrow(/same length/);
    expect(() =>
      addon().matmul(f32(6), f32(6), f32(4), 2, 2, 3, false, false, at(0), at(0), {
        activation: "gelu" as FusedActivation,
      }),
    ).toThrow(/activation must be one of/);
    expect(() =>
      addon().matmul(f32(6), f32(6), f32(4), 2, 2, 3, false, false, at(0), at(0), { activation: "prelu" }),
    ).toThrow(/prelu .* is required/);
    const bias = { data: f32(2), offsets: at(0), rowStride: 2, colStride: 1 as const };
    expect(() => addon().matmul(f32(6), f32(6), f32(4), 2, 2, 3, false, false, at(0), at(0), { bias })).toThrow(
      /bias\.offsets\[0\]/,
    );
  });
});

describe("matmulBf16 (AMX or AVX512-BF16)", () => {
  // bfloat16 of a float32, rounded to nearest even (what VCVTNEPS2BF16 does for finite values).
  const bits = new Uint32Array(1);
  const float = new Float32Array(bits.buffer);
  function bf16(x: number): number {
    float[0] = x;
    bits[0] = (bits[0] + 0x7fff + ((bits[0] >>> 16) & 1)) & 0xffff0000;
    return float[0];
  }

  it("equals the float64 product of the bf16-rounded inputs, or says why it cannot run", async () => {
    await tf.setBackend("native");
    const support = matmulBf16Support();
    const cases: [number, number, number][] = [
      [1, 1, 1],
      [5, 7, 3],
      [33, 65, 47],
      [64, 96, 1000],
      [130, 40, 65],
    ];
    for (const [m, n, k] of cases) {
      const p = product(m, n, k, false, false);
      const run = () =>
        tf.tidy(() => {
          const y = matmulBf16(tf.tensor2d(p.a.values, [m, k]), tf.tensor2d(p.b.values, [k, n]));
          return { values: Float32Array.from(y.dataSync()), shape: y.shape };
        });
      if (support !== null) {
        expect(run).toThrow(/not available here/);
        continue;
      }
      const rounded = {
        ...p,
        a: { ...p.a, values: p.a.values.map(bf16) },
        b: { ...p.b, values: p.b.values.map(bf16) },
      };
      expectMatches(run(), reference(rounded), `bf16 [${m},${k}]x[${k},${n}]`);
    }
  });

  // Shapes past one 32-row block and one 32-column panel, with row and column remainders on both sides of 8 and 16,
  // and deep products the dot engine cuts into depth slices (1024 deep) and, for the wide one, into two column
  // groups per slice (512 KiB of packed B: 8 panels of 1024 depth).
  const BF16_TRANSPOSED: [number, number, number][] = [
    [5, 7, 3],
    [33, 65, 47],
    [130, 17, 65],
    [41, 200, 3001],
    [9, 300, 1100],
  ];

  it("reads transposed operands in place: every transpose combination is the product of the bf16-rounded inputs", async () => {
    await tf.setBackend("native");
    for (const [transposeA, transposeB] of TRANSPOSES)
      for (const [m, n, k] of BF16_TRANSPOSED) {
        const p = product(m, n, k, transposeA, transposeB);
        const run = () =>
          tf.tidy(() => {
            const y = matmulBf16(
              tf.tensor2d(p.a.values, p.a.shape as [number, number]),
              tf.tensor2d(p.b.values, p.b.shape as [number, number]),
              transposeA,
              transposeB,
            );
            return { values: Float32Array.from(y.dataSync()), shape: y.shape };
          });
        if (matmulBf16Support() !== null) {
          expect(run).toThrow(/not available here/);
          continue;
        }
        const rounded = {
          ...p,
          a: { ...p.a, values: p.a.values.map(bf16) },
          b: { ...p.b, values: p.b.values.map(bf16) },
        };
        expectMatches(run(), reference(rounded), `bf16 ${tag(p)}`);
      }
  });

  it.skipIf(matmulBf16Support() !== null)(
    "has BatchMatMul's gradient in bf16 products: equal to tf.matMul's on bf16-exact inputs, for every transpose",
    async () => {
      await tf.setBackend("native");
      // Small integers are exact in bf16 and their sums exact in fp32: the bf16 products then equal the fp32 ones, so
      // tfjs's own BatchMatMul gradient is the oracle, element for element.
      const ints = (shape: number[]) =>
        tf.tensor(
          Float32Array.from({ length: shape[0] * shape[1] }, () => Math.round(8 * rng.uniform()) - 4),
          shape,
        ) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const [m, n, k] = [37, 45, 70];
        const s = operandShapes(m, n, k, transposeA, transposeB);
        const [a, b, w] = [ints(s.a), ints(s.b), ints([m, n])];
        const grads = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) =>
          tf.tidy(() =>
            tf
              .grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x as tf.Tensor2D, y as tf.Tensor2D), w)))([a, b])
              .map((g) => g.arraySync()),
          );
        const want = grads((x, y) => tf.matMul(x, y, transposeA, transposeB));
        const got = grads((x, y) => matmulBf16(x, y, transposeA, transposeB));
        expect(got, `transposeA ${transposeA}, transposeB ${transposeB}`).toEqual(want);
        tf.dispose([a, b, w]);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it("names its engine: AMX where present, else AVX512-BF16 on the AVX-512 path", () => {
    const f = nativeAddon()!.info();
    const want = matmulBf16Support() !== null ? null : f.features.amxbf16 ? "amx" : "avx512bf16";
    expect(matmulBf16Engine()).toBe(want);
    expect(matmulBf16Support() === null).toBe(f.isa === "avx512" && f.features.avx512bf16);
  });

  it.skipIf(matmulBf16Support() !== null)(
    "stays within bf16's error of the fp32 product (DeepGEMM metric), and is not fp32",
    async () => {
      await tf.setBackend("native");
      for (const [m, n, k] of [
        [128, 96, 256],
        [37, 200, 999],
      ]) {
        const p = product(m, n, k, false, false);
        const [exact, bf] = tf.tidy(() => {
          const a = tf.tensor2d(p.a.values, [m, k]);
          const b = tf.tensor2d(p.b.values, [k, n]);
          return [tf.matMul(a, b).dataSync(), matmulBf16(a, b).dataSync()];
        });
        // Inputs rounded to 8 significant bits: relative RMS error ~1.6e-3 a product, so 1 − 2Σxy/Σ(x²+y²) ≈ 1e-6.
        const diff = quantError(exact, bf).deepgemm;
        expect(diff, `[${m},${k}]x[${k},${n}]`).toBeLessThan(1e-5);
        expect(diff, "an fp32 product would be ~1e-14").toBeGreaterThan(1e-8);
      }
    },
  );

  it("names the backend it needs", async () => {
    await tf.setBackend("cpu");
    try {
      const [a, b] = [tf.ones([2, 3]) as tf.Tensor2D, tf.ones([3, 2]) as tf.Tensor2D];
      expect(() => matmulBf16(a, b)).toThrow(/needs the "native" backend \(active: "cpu"\)/);
      tf.dispose([a, b]);
    } finally {
      await tf.setBackend("native");
    }
  });

  it("rejects non-matrices and mismatched shapes", () => {
    expect(() => matmulBf16(tf.ones([2, 3]) as tf.Tensor2D, tf.ones([4, 2]) as tf.Tensor2D)).toThrow(
      /must equal b's rows/,
    );
    expect(() => matmulBf16(tf.ones([2, 3, 1]) as unknown as tf.Tensor2D, tf.ones([3, 2]) as tf.Tensor2D)).toThrow(
      /float32 matrices/,
    );
    expect(() => matmulBf16(tf.ones([3, 2]) as tf.Tensor2D, tf.ones([4, 2]) as tf.Tensor2D, true, true)).toThrow(
      /aᵀ's columns must equal bᵀ's rows/,
    );
  });
});
