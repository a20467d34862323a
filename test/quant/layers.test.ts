// Fake quantization with a straight-through gradient, gradient quantization, FP8 linear layers (forward and the
// quantized backward GEMMs), weight-only quantized Linear and in-place PTQ, W8A8 matmul, and the emulated FP8 GEMM
// showing why promotion to fp32 matters. Tensor counts stay flat.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { Linear } from "../../lib/nn/linear";
import { MlpClassifier } from "../../lib/experiments/classifier";
import { quantError } from "../../lib/quant/error";
import { fakeQuant, gradQuant } from "../../lib/quant/fake-quant";
import { fp8GemmEmulated } from "../../lib/quant/fp8-gemm";
import { FP8_RECIPES, Fp8Linear, fp8Matmul } from "../../lib/quant/fp8-training";
import { PER_CHANNEL, TILE_1X128 } from "../../lib/quant/granularity";
import { quantize } from "../../lib/quant/quantized-tensor";
import { QuantLinear, quantizeWeights } from "../../lib/quant/weights";
import { W8A8Linear, int8Matmul, quantizeW8, w8a8Matmul } from "../../lib/quant/w8a8";
import { Rng, seed } from "../../lib/random";

const rng = new Rng(21);
const normals = (n: number, std = 1) => Float32Array.from({ length: n }, () => Math.fround(rng.normal() * std));
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) expect.fail(`[${i}] ${a[i]} vs ${b[i]}`);
};
const deq = (t: tf.Tensor, config: Parameters<typeof quantize>[1]) =>
  tf.tensor(quantize(t, config).dequantize(), t.shape);

describe("fakeQuant and gradQuant", () => {
  it("forward = dequantize(quantize(x)); the gradient is the identity inside the range", () => {
    const x = tf.tensor2d(normals(4 * 128), [4, 128]);
    const w = tf.tensor2d(normals(4 * 128), [4, 128]);
    const cfg = { format: "e4m3" as const, granularity: TILE_1X128 };
    const y = fakeQuant(x, cfg);
    expect(Array.from(y.dataSync())).toEqual(Array.from(quantize(x, cfg).dequantize()));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fakeQuant(t, cfg), w)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(w.dataSync()));
    tf.dispose([x, w, y, g]);
  });

  it("the gradient is 0 where a given scale clamps x (clipped STE)", () => {
    const x = tf.tensor1d([1, -3, 0.5, 10, -10]);
    const scales = new Float32Array([Math.fround(4 / 127)]); // range ±4
    const g = tf.grad((t: tf.Tensor) => tf.sum(fakeQuant(t, { format: "int8" }, { scales })))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 1, 0, 0]);
    tf.dispose([x, g]);
  });

  it("gradQuant is the identity forward and quantizes the gradient", () => {
    const x = tf.tensor2d(normals(2 * 128), [2, 128]);
    const dy = tf.tensor2d(normals(2 * 128, 1e-3), [2, 128]);
    const cfg = { format: "e5m2" as const, granularity: TILE_1X128 };
    expect(Array.from(gradQuant(x, cfg).dataSync())).toEqual(Array.from(x.dataSync()));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gradQuant(t, cfg), dy)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(quantize(dy, cfg).dequantize()));
    tf.dispose([x, dy, g]);
  });

  it("leaves no tensor behind in a tidy training step", () => {
    const v = tf.variable(tf.tensor2d(normals(8 * 128), [8, 128]));
    const opt = tf.train.sgd(0.1);
    const step = () =>
      opt.minimize(() =>
        tf.sum(
          tf.square(
            fakeQuant(v, { format: "int8", granularity: PER_CHANNEL }, { scales: new Float32Array(8).fill(0.01) }),
          ),
        ),
      );
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    v.dispose();
  });
});

describe("FP8 linear layers", () => {
  it("fp8Matmul: forward Xq·Wqᵀ; backward dX = q(dY)·Wq and dW = q(dY)ᵀ·Xq", () => {
    const recipe = FP8_RECIPES.fineGrained;
    const x = tf.tensor2d(normals(3 * 128), [3, 128]);
    const w = tf.tensor2d(normals(128 * 128, 0.1), [128, 128]);
    const dy = tf.tensor2d(normals(3 * 128), [3, 128]);
    const xq = deq(x, recipe.activations);
    const wq = deq(w, recipe.weights);
    const dyq = deq(dy, recipe.gradients!);
    close(fp8Matmul(x, w, recipe).dataSync(), tf.matMul(xq, wq, false, true).dataSync(), 1e-6);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(fp8Matmul(a as tf.Tensor2D, b as tf.Tensor2D, recipe), dy)),
    )([x, w]);
    close(gx.dataSync(), tf.matMul(dyq, wq).dataSync(), 1e-6);
    close(gw.dataSync(), tf.matMul(dyq, xq, true, false).dataSync(), 1e-6);
    tf.dispose([x, w, dy, xq, wq, dyq, gx, gw]);
  });

  it("Fp8Linear with recipe null is Linear; with a recipe it stays close to fp32", () => {
    seed(3);
    const plain = new Fp8Linear(128, 128, null, { bias: true });
    seed(3);
    const fp8 = new Fp8Linear(128, 128, FP8_RECIPES.perTensor, { bias: true });
    seed(3);
    const linear = new Linear(128, 128, { bias: true });
    const x = tf.tensor2d(normals(4 * 128), [4, 128]);
    expect(Array.from(plain.apply(x).dataSync())).toEqual(Array.from(linear.apply(x).dataSync()));
    expect(quantError(linear.apply(x).dataSync(), fp8.apply(x).dataSync()).deepgemm).toBeLessThan(1e-3);
    expect(() => fp8.apply(tf.zeros([2, 3]))).toThrow(/Fp8Linear.apply\(x\): expected shape \[..., 128\], got \[2,3\]/);
    [plain, fp8, linear].forEach((m) => m.dispose());
    x.dispose();
  });
});

describe("weight-only quantization", () => {
  it("QuantLinear computes x·dequant(W)ᵀ + b and stores codes + scales + bias", () => {
    seed(4);
    const linear = new Linear(256, 64, { bias: true });
    const cfg = { format: "int4" as const, granularity: TILE_1X128, scaleFormat: "fp16" as const };
    const ql = QuantLinear.fromLinear(linear, cfg);
    const x = tf.tensor2d(normals(5 * 256), [5, 256]);
    const wq = deq(linear.weight, cfg);
    close(ql.apply(x).dataSync(), tf.add(tf.matMul(x, wq, false, true), linear.bias!).dataSync(), 1e-6);
    expect(ql.bytes()).toBe((64 * 256) / 2 + 64 * 2 * 2 + 64 * 4);
    ql.dispose();
    linear.dispose();
  });

  it("quantizeWeights fake-quantizes every matrix in place, reports bits and compression, and restores", () => {
    seed(5);
    const model = new MlpClassifier({ inputs: 256, hidden: [128], classes: 10 });
    const before = [...model.namedParameters().values()].map((v) => v.dataSync().slice());
    const report = quantizeWeights(model, { format: "int8", granularity: PER_CHANNEL });
    expect(report.params.map((p) => p.name)).toEqual(["fc0.weight", "head.weight"]);
    expect(report.bitsPerWeight).toBeCloseTo(
      (128 * 256 * 8 + 128 * 32 + 10 * 128 * 8 + 10 * 32) / (128 * 256 + 1280),
      12,
    );
    const total = 128 * 256 + 128 + 1280 + 10;
    expect(report.compression).toBeCloseTo((32 * total) / ((128 * 256 + 1280) * report.bitsPerWeight + 32 * 138), 10);
    const w = model.layers[0].weight.dataSync();
    expect(Array.from(w)).toEqual(
      Array.from(
        quantize(
          new Float32Array(before[0]),
          { format: "int8", granularity: PER_CHANNEL },
          { shape: [128, 256] },
        ).dequantize(),
      ),
    );
    report.restore();
    [...model.namedParameters().values()].forEach((v, i) =>
      expect(Array.from(v.dataSync())).toEqual(Array.from(before[i])),
    );
    model.dispose();
  });
});

describe("W8A8", () => {
  it("w8a8Matmul = Σ q_x q_w · s_x s_w exactly, and close to the fp32 product", () => {
    const x = tf.tensor2d(normals(6 * 200), [6, 200]);
    const w = tf.tensor2d(normals(9 * 200, 0.05), [9, 200]);
    const qw = quantizeW8(w);
    const y = w8a8Matmul(x, qw);
    const qx = quantize(x, { format: "int8", granularity: PER_CHANNEL });
    const acc = int8Matmul(qx.codes as Int8Array, qw.codes as Int8Array, 6, 9, 200);
    const want = Float32Array.from(acc, (a, i) => a * qx.scales[Math.floor(i / 9)] * qw.scales[i % 9]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    expect(quantError(tf.matMul(x, w, false, true).dataSync(), y.dataSync()).deepgemm).toBeLessThan(1e-4);
    expect(() => w8a8Matmul(x, quantize(w, { format: "int8" }))).toThrow(
      /w8a8Matmul\(x, w\): w must be a symmetric int8 per-channel/,
    );
    expect(() => w8a8Matmul(tf.zeros([2, 3]) as tf.Tensor2D, qw)).toThrow(/x must have shape \[M, 200\], got \[2,3\]/);
    tf.dispose([x, w, y]);
  });

  it("W8A8Linear keeps the leading shape and adds the bias", () => {
    seed(6);
    const linear = new Linear(64, 32, { bias: true });
    linear.bias!.assign(tf.fill([32], 0.5));
    const layer = new W8A8Linear(linear);
    const x = tf.tensor3d(normals(2 * 3 * 64), [2, 3, 64]);
    const y = layer.apply(x);
    expect(y.shape).toEqual([2, 3, 32]);
    expect(quantError(linear.apply(x).dataSync(), y.dataSync()).deepgemm).toBeLessThan(1e-4);
    tf.dispose([x, y]);
    layer.dispose();
    linear.dispose();
  });
});

describe("emulated FP8 GEMM", () => {
  const [m, n, k] = [4, 8, 4096];
  const a = Float32Array.from({ length: m * k }, () => Math.fround(rng.uniform()));
  const b = Float32Array.from({ length: n * k }, () => Math.fround(rng.uniform()));
  const exact = new Float64Array(m * n).map((_, idx) => {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[Math.floor(idx / n) * k + t] * b[(idx % n) * k + t];
    return s;
  });

  it("the error of a truncating 14-bit accumulator grows with the promotion interval; every 128 is > 10× better than never", () => {
    const err = (promotionInterval: number, truncate = true) =>
      quantError(exact, fp8GemmEmulated(a, b, m, n, k, { promotionInterval, truncate })).relRms;
    const errors = [32, 128, 512, Infinity].map((i) => err(i));
    expect(errors).toEqual([...errors].sort((x, y) => x - y));
    expect(errors[3]).toBeGreaterThan(10 * errors[1]);
    const inputsOnly = quantError(
      exact,
      fp8GemmEmulated(a, b, m, n, k, { promotionInterval: 1, accumulatorBits: 23 }),
    ).relRms;
    expect(err(128, false)).toBeLessThan(inputsOnly * 1.1); // rounding to nearest: the FP8 inputs dominate
  });

  it("with fp32 accumulation and no input quantization it is the fp32 product", () => {
    const out = fp8GemmEmulated(a, b, m, n, k, {
      promotionInterval: Infinity,
      accumulatorBits: 23,
      quantizeInputs: false,
    });
    close(out, exact, 1e-5);
    expect(() => fp8GemmEmulated(a, b, m, n, k, { promotionInterval: 0 })).toThrow(
      /promotionInterval must be a positive integer or Infinity, got 0/,
    );
    expect(() => fp8GemmEmulated(a, b, m, n, 7)).toThrow(/a must be a Float32Array of m·k = 28 values/);
  });
});
