// The fused ops (GELU, SiLU, the SwiGLU gate, RMSNorm, softmax cross-entropy): the native kernels equal the composite tfjs version
// (cpu) forward and backward, both equal float64 references (closed forms and central differences), the native
// kernels really run on `native`, errors name the argument, and nothing leaks.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { gelu, rmsNorm, silu, softmaxCrossEntropy, swigluGate, FUSED_KERNELS, hasFusedKernel } from "../../lib/ops";
import { Rng } from "../../lib/random";
import { addonCalls } from "../native/kernel-parity";
import { erf64, expectClose, numericGradient, randomValues } from "./helpers";

const rng = new Rng(7);
beforeAll(async () => {
  await useBackend("native"); // fails with the reason when the addon is not built
});

// float64 references
const geluRef = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const geluGradRef = (x: number) =>
  0.5 * (1 + erf64(x / Math.SQRT2)) + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const siluRef = (x: number) => x * sigmoid(x);
const siluGradRef = (x: number) => sigmoid(x) * (1 + x * (1 - sigmoid(x)));

function rmsNormRef(x: Float64Array, g: Float64Array, eps: number): Float64Array {
  const d = g.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[r * d + j] ** 2;
    const s = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) y[r * d + j] = x[r * d + j] * s * g[j];
  }
  return y;
}

function crossEntropyRef(z: Float64Array, t: Int32Array): number {
  const v = z.length / t.length;
  let sum = 0;
  for (let r = 0; r < t.length; r++) {
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, z[r * v + j]);
    let s = 0;
    for (let j = 0; j < v; j++) s += Math.exp(z[r * v + j] - m);
    sum += m + Math.log(s) - z[r * v + t[r]];
  }
  return sum / t.length;
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Value and input gradients of `f` on `backend`, read back. */
async function valueAndGrads(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: () => tf.Tensor[]) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs();
    const y = f(...xs);
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), tf.onesLike(y))))(xs);
    return { y: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

describe("fused activations", () => {
  const x = randomValues(rng, 3 * 37 * 5).map((v) => v * 3); // includes |x| > 4 and tails not a multiple of 16
  for (const [name, op, ref, dref] of [
    ["gelu", gelu, geluRef, geluGradRef],
    ["silu", silu, siluRef, siluGradRef],
  ] as const) {
    it(`${name}: native equals cpu and the float64 closed forms, forward and backward`, async () => {
      const make = () => [tf.tensor3d(Float32Array.from(x), [3, 37, 5])];
      const native = await valueAndGrads("native", op, make);
      const cpu = await valueAndGrads("cpu", op, make);
      expectClose(native.y, cpu.y, 2e-6);
      expectClose(native.grads[0], cpu.grads[0], 2e-6);
      expectClose(native.y, Array.from(x, ref), 2e-6);
      expectClose(native.grads[0], Array.from(x, dref), 2e-6);
    });
  }

  it("run the native kernels on native (one forward and one backward call) and keep shape and empty tensors", async () => {
    await tf.setBackend("native");
    expect(hasFusedKernel(FUSED_KERNELS.activation)).toBe(true);
    const calls = await addonCalls(["fusedActivation", "fusedActivationGrad"], async () => {
      tf.tidy(() =>
        tf
          .grad((a: tf.Tensor) => tf.sum(gelu(a)))(tf.ones([4, 3]))
          .dataSync(),
      );
    });
    expect(calls).toEqual({ fusedActivation: 1, fusedActivationGrad: 1 });
    tf.tidy(() => {
      expect(silu(tf.zeros([0, 3])).shape).toEqual([0, 3]);
    });
    expect(() => gelu(tf.tensor1d([1], "int32"))).toThrow(/gelu\(x\): expected a float32 tensor, got int32/);
  });
});

describe("fused SwiGLU gate", () => {
  const n = 3 * 37;
  const a = randomValues(rng, n).map((v) => 3 * v);
  const b = randomValues(rng, n);
  const w = randomValues(rng, n);
  const make = () => [tf.tensor2d(Float32Array.from(a), [3, 37]), tf.tensor2d(Float32Array.from(b), [3, 37])];
  const weighted = (x: tf.Tensor, y: tf.Tensor) => tf.mul(swigluGate(x, y), tf.tensor2d(Float32Array.from(w), [3, 37]));

  it("native equals cpu and float64 central differences for both inputs, through the native kernels", async () => {
    const native = await valueAndGrads("native", weighted, make);
    const cpu = await valueAndGrads("cpu", weighted, make);
    expectClose(native.y, cpu.y, 2e-6);
    native.grads.forEach((g, i) => expectClose(g, cpu.grads[i], 2e-6));
    const loss = (xs: Float64Array, ys: Float64Array) => xs.reduce((s, v, i) => s + siluRef(v) * ys[i] * w[i], 0);
    expectClose(
      native.grads[0],
      numericGradient((xs) => loss(xs, b), a),
      1e-5,
    );
    expectClose(
      native.grads[1],
      numericGradient((ys) => loss(a, ys), b),
      1e-5,
    );
    await tf.setBackend("native");
    const calls = await addonCalls(["swigluGate", "swigluGateGradA", "swigluGateGradB"], async () => {
      tf.tidy(() =>
        tf
          .grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(swigluGate(x, y)))(make())
          .map((t) => t.dataSync()),
      );
    });
    expect(calls).toEqual({ swigluGate: 1, swigluGateGradA: 1, swigluGateGradB: 1 });
    tf.tidy(() => {
      expect(() => swigluGate(tf.ones([2, 3]), tf.ones([3, 2]))).toThrow(
        /swigluGate\(b\): expected the shape of a \[2,3\], got \[3,2\]/,
      );
    });
  });
});

describe("fused RMSNorm", () => {
  const d = 37;
  const rows = 9;
  const x = randomValues(rng, rows * d);
  const g = randomValues(rng, d).map((v) => 1 + 0.3 * v);
  const w = randomValues(rng, rows * d); // upstream weights: loss = Σ w·y
  const make = () => [tf.tensor2d(Float32Array.from(x), [rows, d]), tf.tensor1d(Float32Array.from(g))];
  const weighted = (a: tf.Tensor, b: tf.Tensor) =>
    tf.mul(rmsNorm(a, b, 1e-5), tf.tensor2d(Float32Array.from(w), [rows, d]));

  it("native equals cpu and float64 central differences for x and gain", async () => {
    const native = await valueAndGrads("native", weighted, make);
    const cpu = await valueAndGrads("cpu", weighted, make);
    expectClose(native.y, cpu.y, 2e-6);
    native.grads.forEach((gr, i) => expectClose(gr, cpu.grads[i], 5e-6));
    const loss = (xs: Float64Array, gs: Float64Array) => dot(rmsNormRef(xs, gs, 1e-5), w);
    expectClose(
      native.grads[0],
      numericGradient((xs) => loss(xs, g), x),
      1e-5,
    );
    expectClose(
      native.grads[1],
      numericGradient((gs) => loss(x, gs), g),
      1e-5,
    );
  });

  it("calls the native kernels and names bad arguments", async () => {
    await tf.setBackend("native");
    const calls = await addonCalls(["rmsNorm", "rmsNormGrad", "rmsNormGainGrad"], async () => {
      tf.tidy(() =>
        tf
          .grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(rmsNorm(a, b)))([tf.ones([5, 4]), tf.ones([4])])
          .map((t) => t.dataSync()),
      );
    });
    expect(calls).toEqual({ rmsNorm: 1, rmsNormGrad: 1, rmsNormGainGrad: 1 });
    tf.tidy(() => {
      expect(() => rmsNorm(tf.ones([2, 4]), tf.ones([3]))).toThrow(/rmsNorm\(gain\): expected a float32 tensor \[4\]/);
      expect(() => rmsNorm(tf.ones([2, 4]), tf.ones([4]), -1)).toThrow(
        /rmsNorm\(eps\): expected a finite number ≥ 0, got -1/,
      );
    });
  });
});

describe("fused softmax cross-entropy", () => {
  const n = 11;
  const v = 45;
  const z = randomValues(rng, n * v).map((x) => 4 * x);
  const t = Int32Array.from({ length: n }, () => rng.int(v));
  const make = () => [tf.tensor2d(Float32Array.from(z), [n, v])];
  const loss = (a: tf.Tensor) => softmaxCrossEntropy(a as tf.Tensor2D, tf.tensor1d(t, "int32"));

  it("native equals cpu, the float64 loss and its central differences", async () => {
    const native = await valueAndGrads("native", loss, make);
    const cpu = await valueAndGrads("cpu", loss, make);
    expectClose(native.y, cpu.y, 2e-6);
    expectClose(native.grads[0], cpu.grads[0], 2e-6);
    expectClose(native.y, [crossEntropyRef(z, t)], 2e-6);
    expectClose(
      native.grads[0],
      numericGradient((zs) => crossEntropyRef(zs, t), z),
      1e-6,
    );
  });

  it("equals tf.losses.softmaxCrossEntropy on one-hot labels, calls the native kernels, names bad targets", async () => {
    await tf.setBackend("native");
    const calls = await addonCalls(["crossEntropy", "crossEntropyGrad"], async () => {
      tf.tidy(() => tf.grad(loss)(make()[0]).dataSync());
    });
    expect(calls).toEqual({ crossEntropy: 1, crossEntropyGrad: 1 });
    tf.tidy(() => {
      const reference = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(t, "int32"), v), make()[0]).dataSync()[0];
      expect(loss(make()[0]).dataSync()[0]).toBeCloseTo(reference, 5);
      expect(() => softmaxCrossEntropy(make()[0] as tf.Tensor2D, tf.tensor1d([...t.slice(1), v], "int32"))).toThrow(
        /softmaxCrossEntropy\(targets\): targets\[10\] = 45 is outside \[0, 45\)/,
      );
      expect(() => softmaxCrossEntropy(make()[0] as tf.Tensor2D, tf.tensor1d([1, 2], "int32"))).toThrow(
        /expected an int32 tensor \[11\]/,
      );
    });
  });
});

describe("fused ops leak nothing", () => {
  it("forward and backward leave the tensor count flat on native and cpu", async () => {
    for (const backend of ["native", "cpu"]) {
      await tf.setBackend(backend);
      const x = tf.randomNormal([6, 8]);
      const g = tf.ones([8]);
      const t = tf.tensor1d([0, 1, 2, 3, 4, 5], "int32");
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => {
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            softmaxCrossEntropy(swigluGate(silu(gelu(rmsNorm(a, b))), a) as tf.Tensor2D, t);
          tf.grads(f)([x, g]).forEach((gr) => gr.dataSync());
        });
      }
      expect(tf.memory().numTensors, backend).toBe(before);
      tf.dispose([x, g, t]);
    }
  });
});
