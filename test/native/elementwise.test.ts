// The native elementwise kernels (broadcasting binary ops, unary ops, Cast) equal tfjs's cpu backend (or a float64
// reference where cpu is inaccurate) on random shapes, every broadcasting pattern, empty tensors and special values,
// on every instruction set (child processes with MOELAB_ISA=avx2 and =scalar), and so do gradients through them.
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { nativeAddon } from "../../lib/native/addon";
import type { NativeBackend } from "../../lib/native/native-backend";
import { BINARY_OPS, broadcastPlan, UNARY_OPS } from "../../lib/native/kernels/elementwise";
import { erf64 } from "../ops/helpers";
import { Rng } from "../../lib/random";
import { addonCalls, expectClose, on, type Result } from "./kernel-parity";

const root = path.resolve(__dirname, "../..");

/** Values a kernel must get right beyond ordinary numbers: zeros of both signs, infinities, NaN, subnormals. */
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 1.4e-45, 3.4e38, -3.4e38, 1, -1, 0.5, -0.5];

type Kernel = keyof typeof BINARY_OPS | keyof typeof UNARY_OPS;

/** One kernel call: inputs by name (float32 unless said), attributes, and how close native must be. */
interface Case {
  name: string;
  kernel: Kernel;
  inputs: Record<string, { shape: number[]; values: Float32Array }>;
  attrs: Record<string, number>;
}

/** Tolerance against cpu per kernel: rtol, atol (|native − cpu| ≤ atol + rtol·|cpu|). */
const TOLERANCE: Record<Kernel, [number, number]> = {
  // + − × ÷, max, min: the float result equals JavaScript's double result rounded to float, bit for bit.
  Add: [0, 0],
  Sub: [0, 0],
  Multiply: [0, 0],
  RealDiv: [0, 0],
  Maximum: [0, 0],
  Minimum: [0, 0],
  // float (a − b)² rounds twice where cpu rounds once: ≤ 2 ulp.
  SquaredDifference: [3e-7, 0],
  Relu: [0, 0],
  Relu6: [0, 0],
  Neg: [0, 0],
  Abs: [0, 0],
  Square: [0, 0],
  Step: [0, 0],
  Reciprocal: [0, 0],
  Sqrt: [0, 0],
  // float alpha·x (cpu multiplies by the double alpha) and 1/sqrt(x) rounded twice: ≤ 1.5 ulp.
  LeakyRelu: [2e-7, 0],
  Rsqrt: [2e-7, 0],
  // vector math ≤ 2.5 ulp (native/src/unary.cc); subnormal results within a few subnormal ulps.
  Exp: [1e-6, 1e-44],
  Expm1: [1e-6, 1e-44],
  Log: [1e-6, 0],
  Sigmoid: [1e-6, 1e-44],
  Tanh: [1e-6, 1e-44],
  Softplus: [1e-6, 1e-44],
  // cpu computes exp(x) − 1 (cancels for tiny x) and erf by Abramowitz–Stegun 7.1.26 (1.5e-7 absolute error):
  // compared with cpu loosely here, and with a float64 reference at 1e-6 below.
  Elu: [1e-6, 1e-12],
  Erf: [0, 3e-7],
};

/** float64 references for the kernels whose cpu implementation is inaccurate. */
const REFERENCE: Partial<Record<Kernel, (x: number) => number>> = {
  Erf: erf64,
  Elu: (x) => (x >= 0 ? x : Math.expm1(x)),
  Expm1: Math.expm1,
};

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** `n` values: normals·scale with about 1 in 12 replaced by a special value. */
function values(rng: Rng, n: number, scale: number, specials = SPECIALS): Float32Array {
  return Float32Array.from({ length: n }, () =>
    rng.int(12) === 0 ? specials[rng.int(specials.length)] : scale * rng.normal(),
  );
}

/** Inputs for a unary kernel: a spread that exercises its interesting range. */
function unaryValues(kernel: Kernel, rng: Rng, n: number): Float32Array {
  switch (kernel) {
    case "Log":
    case "Sqrt":
    case "Rsqrt": // positive over many magnitudes, some negatives and specials
      return values(rng, n, 1).map((v, i) => (i % 5 === 4 || !Number.isFinite(v) || v === 0 ? v : Math.exp(20 * v)));
    case "Exp":
    case "Expm1":
    case "Sigmoid":
    case "Softplus": // past overflow, into the subnormals, near 0
      return values(rng, n, 40, [...SPECIALS, 88.72, 88.73, -87.3, -103.9, -104, 13.942385, 13.942386, -13.942386]);
    case "Tanh":
    case "Erf":
    case "Elu":
      return values(rng, n, 3).map((v, i) => (i % 7 === 6 ? v * 1e-4 : v));
    default:
      return values(rng, n, 4);
  }
}

/** Broadcast pairs: same shape (sizes 1, 15, 17, 33, 1023), scalars, rows, columns, middle axes, mixed, ranks 0 to 5,
 * empty tensors. */
const BINARY_SHAPES: [number[], number[]][] = [
  [[1], [1]],
  [[15], [15]],
  [[17], [17]],
  [[33], [33]],
  [[1023], [1023]],
  [
    [3, 17],
    [3, 17],
  ],
  [[], []],
  [[], [1023]],
  [[33], []],
  [[1, 1], [17]],
  [[5, 33], [33]],
  [[33], [5, 33]],
  [
    [5, 33],
    [1, 33],
  ],
  [
    [5, 33],
    [5, 1],
  ],
  [
    [5, 1],
    [5, 33],
  ],
  [
    [2, 3, 17],
    [2, 1, 17],
  ],
  [
    [2, 1, 17],
    [2, 3, 17],
  ],
  [
    [4, 3, 5],
    [3, 1],
  ],
  [
    [2, 1, 3],
    [1, 4, 1],
  ],
  [
    [1, 4, 1],
    [2, 1, 3],
  ],
  [
    [2, 3, 1, 5, 1],
    [3, 4, 1, 7],
  ],
  [[1, 1, 1, 1, 1], [1]],
  [
    [2, 1, 2, 1, 2],
    [1, 2, 1, 2, 1],
  ],
  [[0, 3], [3]],
  [[0], []],
  [
    [2, 0],
    [2, 1],
  ],
];

/** Outputs large enough to be split over the thread pool (into chunks that start mid-row), for a few ops. */
const LARGE_SHAPES: [number[], number[]][] = [
  [[300, 1001], [1001]],
  [
    [1001, 300],
    [1001, 1],
  ],
  [
    [3, 400, 257],
    [3, 1, 257],
  ],
  [[300001], []],
  [
    [3, 100003],
    [3, 100003],
  ],
];

function binaryCases(rng: Rng, kernels: (keyof typeof BINARY_OPS)[], shapes: [number[], number[]][]): Case[] {
  const cases: Case[] = [];
  for (const kernel of kernels) {
    for (const [as, bs] of shapes) {
      cases.push({
        name: `${kernel} [${as}] [${bs}]`,
        kernel,
        inputs: {
          a: { shape: as, values: values(rng, sizeOf(as), 3) },
          b: { shape: bs, values: values(rng, sizeOf(bs), 3) },
        },
        attrs: {},
      });
    }
  }
  return cases;
}

function unaryCases(rng: Rng, kernels: (keyof typeof UNARY_OPS)[], shapes: number[][]): Case[] {
  const cases: Case[] = [];
  for (const kernel of kernels) {
    for (const shape of shapes) {
      const attrs: Record<string, number> =
        kernel === "LeakyRelu" ? { alpha: 0.2 } : kernel === "Step" ? { alpha: 0.3 } : {};
      const x = unaryValues(kernel, rng, sizeOf(shape));
      cases.push({ name: `${kernel} [${shape}]`, kernel, inputs: { x: { shape, values: x } }, attrs });
    }
  }
  return cases;
}

function runCase(c: Case): tf.Tensor {
  const inputs: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(c.inputs)) inputs[name] = tf.tensor(input.values, input.shape, "float32");
  return tf.engine().runKernel(c.kernel, inputs, c.attrs) as tf.Tensor;
}

/** Compares native with cpu (sign of zero too where the kernel is exact) and with a float64 reference if any. */
function checkCase(c: Case, native: Result, cpu: Result): void {
  const [rtol, atol] = TOLERANCE[c.kernel];
  expectClose(native, cpu, `${c.name} vs cpu`, rtol, atol);
  if (rtol === 0 && atol === 0) {
    const i = cpu.values.findIndex((e, j) => e === 0 && !Object.is(e, native.values[j]));
    if (i >= 0)
      expect.fail(`${c.name}: element ${i} is ${native.values[i]}, cpu gives ${cpu.values[i]} (sign of zero)`);
  }
  const ref = REFERENCE[c.kernel];
  if (ref) {
    const x = c.inputs.x.values;
    const expected = { ...native, values: Array.from(Float32Array.from(x, ref)) };
    expectClose(native, expected, `${c.name} vs float64`, 1e-6, 1e-44);
  }
}

describe("native elementwise kernels", () => {
  beforeAll(async () => {
    await useBackend("native"); // fails here, with the reason, when the addon is not built
  });

  it("collapse broadcasts into few [size, aStride, bStride] dimensions", () => {
    expect(broadcastPlan([4, 5], [4, 5], [4, 5])).toEqual([20, 1, 1]);
    expect(broadcastPlan([], [4, 5], [4, 5])).toEqual([20, 0, 1]);
    expect(broadcastPlan([4, 5], [5], [4, 5])).toEqual([4, 5, 0, 5, 1, 1]);
    expect(broadcastPlan([4, 5], [4, 1], [4, 5])).toEqual([4, 5, 1, 5, 1, 0]);
    expect(broadcastPlan([2, 1, 3], [1, 4, 1], [2, 4, 3])).toEqual([2, 3, 0, 4, 0, 1, 3, 1, 0]);
    expect(broadcastPlan([6, 1, 2, 3], [6, 4, 1, 1], [6, 4, 2, 3])).toEqual([6, 6, 4, 4, 0, 1, 6, 1, 0]);
    expect(broadcastPlan([1, 1], [1], [1, 1])).toEqual([1, 0, 0]);
  });

  it("binary ops equal cpu on every broadcasting pattern, empty tensors and special values", async () => {
    const rng = new Rng(1);
    const cases = [
      ...binaryCases(rng, Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[], BINARY_SHAPES),
      ...binaryCases(rng, ["Sub", "Maximum"], LARGE_SHAPES),
    ];
    const results: [Case, Result][] = [];
    const calls = await addonCalls(["elementwiseBinary"], async () => {
      for (const c of cases) results.push([c, await on("native", () => runCase(c))]);
    });
    // every non-empty float32 case ran natively
    expect(calls.elementwiseBinary).toBe(
      cases.filter((c) => sizeOf(tf.backend_util.assertAndGetBroadcastShape(c.inputs.a.shape, c.inputs.b.shape)) > 0)
        .length,
    );
    for (const [c, native] of results) checkCase(c, native, await on("cpu", () => runCase(c)));
  });

  it("unary ops equal cpu (and a float64 reference) on sizes 1 to 300001 and special values", async () => {
    const kernels = Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[];
    const cases = unaryCases(new Rng(2), kernels, [[1], [15], [17], [33], [4, 255], [300001], [0], [2, 0]]);
    for (const c of cases) checkCase(c, await on("native", () => runCase(c)), await on("cpu", () => runCase(c)));
    const calls = await addonCalls(["elementwiseUnary"], async () => {
      for (const c of unaryCases(new Rng(3), kernels, [[7]])) await on("native", () => runCase(c));
    });
    expect(calls.elementwiseUnary).toBe(kernels.length);
  });

  it("vector math is within 2.5 ulp of float64 over a million inputs spread over all float32 bit patterns", () => {
    const bits = Uint32Array.from({ length: 1 << 20 }, (_, i) => (i * 4099 + 12345) >>> 0);
    const x = new Float32Array(bits.buffer);
    const out = new Float32Array(x.length);
    const ulp = (r: number) => {
      const a = Math.abs(r);
      return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
    };
    const softplus = (v: number) =>
      v >= 13.94238567352295 ? v : v <= -13.94238567352295 ? Math.exp(v) : Math.log1p(Math.exp(v));
    const references: [keyof typeof UNARY_OPS, (v: number) => number, number][] = [
      ["Exp", Math.exp, 1.1],
      ["Expm1", Math.expm1, 1.6],
      ["Log", Math.log, 0.9],
      ["Tanh", Math.tanh, 2.5],
      ["Sigmoid", (v) => 1 / (1 + Math.exp(-v)), 2.4],
      ["Erf", erf64, 2.5],
      ["Softplus", softplus, 2.5],
      ["Elu", (v) => (v >= 0 ? v : Math.expm1(v)), 1.6],
    ];
    const addon = nativeAddon() as unknown as {
      elementwiseUnary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
    };
    for (const [kernel, ref, bound] of references) {
      addon.elementwiseUnary(UNARY_OPS[kernel], x, out, 0);
      let worst = 0,
        at = 0;
      for (let i = 0; i < x.length; i++) {
        const r = ref(x[i]);
        if (Number.isNaN(r) || Math.abs(Math.fround(r)) === Infinity) {
          if (!Object.is(out[i], Math.fround(r)))
            expect.fail(`${kernel}(${x[i]}) is ${out[i]}, expected ${Math.fround(r)}`);
          continue;
        }
        const err = Math.abs(out[i] - r) / ulp(r);
        if (err > worst) [worst, at] = [err, x[i]];
      }
      expect(worst, `${kernel}: ${worst.toFixed(2)} ulp at x = ${at}`).toBeLessThanOrEqual(bound);
    }
  });

  it("special values follow tfjs cpu: log(0) = -Inf, log(x < 0) = NaN, sqrt(x < 0) = NaN, exp overflow = Inf", async () => {
    const x = [0, -0, -4, Infinity, -Infinity, NaN, 89, -200];
    const read = async (f: (t: tf.Tensor) => tf.Tensor) => (await on("native", () => f(tf.tensor(x)))).values;
    expect(await read(tf.log)).toEqual([-Infinity, -Infinity, NaN, Infinity, NaN, NaN, Math.fround(Math.log(89)), NaN]);
    expect(await read(tf.sqrt)).toEqual([0, -0, NaN, Infinity, NaN, NaN, Math.fround(Math.sqrt(89)), NaN]);
    expect(await read(tf.rsqrt)).toEqual([Infinity, -Infinity, NaN, 0, NaN, NaN, Math.fround(1 / Math.sqrt(89)), NaN]);
    expect(await read(tf.exp)).toEqual([1, 1, Math.fround(Math.exp(-4)), Infinity, 0, NaN, Infinity, 0]);
    expect(await read(tf.tanh)).toEqual([0, -0, Math.fround(Math.tanh(-4)), 1, -1, NaN, 1, -1]);
    expect(await read(tf.sigmoid)).toEqual([0.5, 0.5, Math.fround(1 / (1 + Math.exp(4))), 1, 0, NaN, 1, 0]);
    expect(await read(tf.erf)).toEqual([0, -0, -1, 1, -1, NaN, 1, -1]);
    expect(await read(tf.relu)).toEqual([0, 0, 0, Infinity, 0, NaN, 89, 0]);
    expect(await read((t) => tf.step(t, 0.5))).toEqual([0.5, 0.5, 0.5, 1, 0.5, NaN, 1, 0.5]);
    expect(await read((t) => tf.div(1, t))).toEqual([
      Infinity,
      -Infinity,
      -0.25,
      0,
      -0,
      NaN,
      Math.fround(1 / 89),
      Math.fround(-1 / 200),
    ]);
    expect(await read((t) => tf.div(t, 0))).toEqual([
      NaN,
      NaN,
      -Infinity,
      Infinity,
      -Infinity,
      NaN,
      Infinity,
      -Infinity,
    ]);
    expect(await read((t) => tf.maximum(t, 0))).toEqual([0, 0, 0, Infinity, 0, NaN, 89, 0]);
    expect(await read((t) => tf.minimum(t, 0))).toEqual([0, -0, -4, 0, -Infinity, NaN, 0, -200]);
  });

  it("Cast converts float32, int32 and bool like cpu (truncation, ToInt32 wrap-around, NaN is true)", async () => {
    const floats = [
      1.7,
      -1.7,
      0.5,
      -0.5,
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      3e9,
      -3e9,
      2147483647,
      -2147483648,
      1e20,
      123456789,
    ];
    const ints = [0, 1, -1, 7, 16777216, -16777216, 2147483647, -2147483648];
    const cases: [string, () => tf.Tensor][] = [
      ["float32 -> int32", () => tf.cast(tf.tensor(floats), "int32")],
      ["float32 -> bool", () => tf.cast(tf.tensor(floats), "bool")],
      ["int32 -> bool", () => tf.cast(tf.tensor(ints, undefined, "int32"), "bool")],
      ["int32 -> float32", () => tf.cast(tf.tensor(ints.slice(0, 6), undefined, "int32"), "float32")],
      ["bool -> float32", () => tf.cast(tf.tensor([true, false, true], undefined, "bool"), "float32")],
      ["bool -> int32", () => tf.cast(tf.tensor([true, false, true], undefined, "bool"), "int32")],
      ["float32 -> int32, large", () => tf.cast(tf.mul(tf.range(-150000, 150000, 1, "float32"), 1e5), "int32")],
      ["empty", () => tf.cast(tf.zeros([0, 4]), "int32")],
    ];
    const calls = await addonCalls(["castValues"], async () => {
      for (const [what, f] of cases) expectClose(await on("native", f), await on("cpu", f), what, 0, 0);
    });
    expect(calls.castValues).toBe(cases.length - 1); // the empty one has nothing to convert
    // widening casts store the target's own typed array, so native kernels downstream read a Float32Array, and
    // int32 values beyond 2^24 round to float32 (cpu relabels the Int32Array and keeps them exact)
    await tf.setBackend("native");
    const t = tf.cast(tf.tensor(ints, undefined, "int32"), "float32");
    expect((tf.backend() as NativeBackend).data.get(t.dataId).values).toBeInstanceOf(Float32Array);
    expect(Array.from(t.dataSync())).toEqual(ints.map(Math.fround));
    t.dispose();
  });

  it("int32 Add, Sub, Multiply, Maximum, Minimum equal cpu on every broadcasting pattern, with ToInt32 wrap-around", async () => {
    const rng = new Rng(9);
    const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ["Add", tf.add],
      ["Sub", tf.sub],
      ["Multiply", tf.mul],
      ["Maximum", tf.maximum],
      ["Minimum", tf.minimum],
    ];
    // Small values, and values near ±2^31 whose sums and products wrap (products beyond 2^53 round first, as on cpu).
    const ints = (n: number) =>
      Int32Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? 2147483647 - rng.int(5) : i % 3 === 1 ? -2147483648 + rng.int(5) : rng.int(2001) - 1000,
      );
    // Spy on the cpu kernels the native ones would fall back to: the int32 path must not reach them.
    let cpuCalls = 0;
    const restore = ops.map(([name]) => {
      const config = tf.getKernel(name, "cpu")! as { kernelFunc: tf.KernelFunc };
      const original = config.kernelFunc;
      config.kernelFunc = (args) => (cpuCalls++, original(args));
      return () => (config.kernelFunc = original);
    });
    for (const [aShape, bShape] of [
      ...BINARY_SHAPES,
      [
        [4096, 6],
        [4096, 1],
      ] as [number[], number[]],
    ]) {
      const a = ints(sizeOf(aShape)),
        b = ints(sizeOf(bShape));
      for (const [name, op] of ops) {
        const f = () => op(tf.tensor(a, aShape, "int32"), tf.tensor(b, bShape, "int32"));
        const before = cpuCalls;
        const native = await on("native", f);
        expect(cpuCalls, `int32 ${name} ran without the cpu kernel`).toBe(before);
        expect(native.dtype).toBe("int32");
        expectClose(native, await on("cpu", f), `int32 ${name} [${aShape}] [${bShape}]`, 0, 0);
      }
    }
    restore.forEach((r) => r());
    expect(cpuCalls).toBeGreaterThan(0); // the spy saw the cpu reference runs
  });

  it("other dtypes and non-Float32Array storage fall back to the cpu kernels", async () => {
    const int = () =>
      tf.tensor(
        [
          [1, -2, 3],
          [4, 5, -6],
        ],
        undefined,
        "int32",
      );
    for (const f of [
      () => tf.squaredDifference(int(), tf.tensor([1, 2, 3], undefined, "int32")),
      () => tf.neg(int()),
      () => tf.square(int()),
      () => tf.abs(int()),
    ]) {
      expectClose(await on("native", f), await on("cpu", f), `int32 ${f}`, 0, 0);
    }
    // float32 data kept as an Int32Array (how cpu's Cast relabels int32 as float32) is not read as floats
    await tf.setBackend("native");
    const backend = tf.backend() as NativeBackend;
    const info = backend.makeTensorInfo([3], "float32", new Int32Array([1, 2, 3]));
    const t = tf.engine().makeTensorFromTensorInfo(info);
    const sum = tf.add(t, t);
    expect(Array.from(sum.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([t, sum]);
  });

  it("gradients of composites through every kernel equal cpu to 1e-5", async () => {
    const rng = new Rng(4);
    const a0 = values(rng, 15, 1, [0.5]),
      b0 = values(rng, 20, 1, [0.5]),
      c0 = values(rng, 12, 1, [0.5]);
    const grads = (backend: "cpu" | "native") =>
      Promise.all(
        [0, 1, 2].map((k) =>
          on(backend, () => {
            const a = tf.tensor(a0, [3, 1, 5]),
              b = tf.tensor(b0, [4, 5]),
              c = tf.tensor(c0, [3, 4, 1]);
            const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
              // same-shape operands for maximum, minimum, squaredDifference: tfjs's gradients of those do not reduce
              // over broadcast dimensions (they fail on both backends)
              const ac = tf.add(a, c),
                bc = tf.mul(b, c);
              const sig = tf.sigmoid(tf.add(tf.mul(a, b), c)); // sigmoid(a*b + c)
              const gelu = tf.mul(tf.mul(b, 0.5), tf.add(1, tf.erf(tf.div(b, Math.SQRT2))));
              const terms = [
                sig,
                gelu,
                tf.mul(tf.tanh(a), tf.div(b, tf.add(1, tf.exp(tf.neg(c))))),
                tf.log(tf.add(1, tf.square(a))),
                tf.sqrt(tf.add(1, tf.square(b))),
                tf.maximum(ac, bc),
                tf.mul(tf.minimum(bc, ac), 0.5),
                tf.squaredDifference(ac, bc),
                tf.elu(b),
                tf.softplus(a),
                tf.leakyRelu(c, 0.1),
                tf.relu6(tf.mul(a, 3)),
                tf.relu(b),
                tf.rsqrt(tf.add(1, tf.abs(b))),
                tf.sub(tf.reciprocal(tf.add(2, c)), tf.expm1(tf.mul(a, 0.1))),
              ];
              return tf.sum(terms.reduce((s, t) => tf.add(s, t)));
            };
            return tf.grads(f)([a, b, c])[k];
          }),
        ),
      );
    const [native, cpu] = [await grads("native"), await grads("cpu")];
    native.forEach((g, k) => expectClose(g, cpu[k], `gradient ${k}`, 1e-5, 1e-6));
  });
});

// Runs in a child process (CommonJS through ts-node) whose ISA is capped by MOELAB_ISA: reads the cases from
// $EW_CASES, runs each kernel on the native backend and writes {isa, outputs} to $EW_OUT (values as base64 float32).
const CHILD = `
const fs = require("node:fs");
const tf = require("@tensorflow/tfjs");
const { useBackend } = require(${JSON.stringify(path.join(root, "lib/backend-select"))});
const { nativeAddon } = require(${JSON.stringify(path.join(root, "lib/native/addon"))});
const f32 = (s) => new Float32Array(new Uint8Array(Buffer.from(s, "base64")).buffer);
(async () => {
  await useBackend("native");
  const outputs = JSON.parse(fs.readFileSync(process.env.EW_CASES, "utf8")).map((c) => {
    const inputs = {};
    for (const [name, v] of Object.entries(c.inputs)) inputs[name] = tf.tensor(f32(v.values), v.shape, "float32");
    const t = tf.engine().runKernel(c.kernel, inputs, c.attrs);
    const out = { shape: t.shape, dtype: t.dtype, values: Buffer.from(Float32Array.from(t.dataSync()).buffer).toString("base64") };
    tf.dispose([t, ...Object.values(inputs)]);
    return out;
  });
  fs.writeFileSync(process.env.EW_OUT, JSON.stringify({ isa: nativeAddon().info().isa, outputs }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe("native elementwise kernels on every instruction set", () => {
  const rng = new Rng(5);
  const shapes: [number[], number[]][] = [
    [[33], [33]],
    [[1023], []],
    [[5, 17], [17]],
    [
      [5, 17],
      [5, 1],
    ],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [[300, 1001], [1001]],
  ];
  const cases = [
    ...binaryCases(rng, Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[], shapes),
    ...unaryCases(rng, Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[], [[1023], [65537]]),
  ];
  const encode = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

  for (const cap of ["avx2", "scalar"] as const) {
    it(`equal cpu with MOELAB_ISA=${cap}`, async () => {
      await useBackend("native");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-ew-"));
      try {
        const casesFile = path.join(dir, "cases.json"),
          outFile = path.join(dir, "out.json");
        fs.writeFileSync(
          casesFile,
          JSON.stringify(
            cases.map((c) => ({
              kernel: c.kernel,
              attrs: c.attrs,
              inputs: Object.fromEntries(
                Object.entries(c.inputs).map(([k, v]) => [k, { shape: v.shape, values: encode(v.values) }]),
              ),
            })),
          ),
        );
        const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", CHILD], {
          cwd: root,
          env: {
            ...process.env,
            MOELAB_ISA: cap,
            EW_CASES: casesFile,
            EW_OUT: outFile,
            TS_NODE_PROJECT: path.join(root, "tsconfig.json"),
          },
          encoding: "utf8",
          timeout: 120_000,
        });
        expect(child.status, child.stderr).toBe(0);
        const report = JSON.parse(fs.readFileSync(outFile, "utf8")) as {
          isa: string;
          outputs: { shape: number[]; dtype: string; values: string }[];
        };
        // the cap lowers the ISA; a CPU without AVX2 runs the baseline either way
        expect(report.isa).toBe(cap === "avx2" && nativeAddon()!.info().isa !== "scalar" ? "avx2" : "scalar");
        expect(report.outputs.length).toBe(cases.length);
        for (const [i, c] of cases.entries()) {
          const o = report.outputs[i];
          const values = Array.from(new Float32Array(new Uint8Array(Buffer.from(o.values, "base64")).buffer));
          checkCase(c, { shape: o.shape, dtype: o.dtype, values }, await on("cpu", () => runCase(c)));
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
