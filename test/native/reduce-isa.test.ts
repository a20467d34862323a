// The reduction, softmax, layout and fused kernels give cpu's results on every instruction set: child processes capped with
// MOELAB_ISA=avx2 and MOELAB_ISA=scalar (best_isa() is fixed per process) run a set of cases that cover vector tails,
// transpose tiles, split reductions and gradients, and report their worst error against cpu.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { useBackend } from "../../lib/backend-select";
import { nativeAddon } from "../../lib/native/addon";

const root = path.resolve(__dirname, "../..");

// Runs in the child (CommonJS through ts-node): prints {isa, errors}, errors[case] = the worst
// |native − cpu| / (1e-6 + 1e-5·|cpu|) (≤ 1: within 1e-5 relative, or 1e-6 absolute where cancellation leaves ~0).
const CHILD = `
const tf = require("@tensorflow/tfjs");
const { useBackend } = require(${JSON.stringify(path.join(root, "lib/backend-select"))});
const { nativeAddon } = require(${JSON.stringify(path.join(root, "lib/native/addon"))});
const { Rng } = require(${JSON.stringify(path.join(root, "lib/random"))});
const ops = require(${JSON.stringify(path.join(root, "lib/ops"))});
const rng = new Rng(21);
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const normals = (shape, scale = 1) =>
  tf.tensor(Float32Array.from({ length: size(shape) }, () => scale * rng.normal()), shape);
const ints = (n, below) => Int32Array.from({ length: n }, () => rng.int(below));
const x3 = normals([37, 19, 5]), big = normals([1, 100003]), tall = normals([30001, 3]), wide = normals([300, 517]);
const logits = normals([33, 301], 5);
const special = tf.tensor2d([[3e38, 3e38, 0, -3e38], [NaN, 1, 2, 3], [-Infinity, 0, -Infinity, 1]]);
const table = normals([50, 19]), seg = normals([40, 37]), ids = tf.tensor1d(ints(40, 9).map((v) => v - 1), "int32");
const gain = normals([517]), targets = tf.tensor1d(ints(33, 301), "int32");
const idx = tf.tensor2d(ints(12, 50), [3, 4], "int32"), labels = tf.oneHot(tf.tensor1d(ints(33, 301), "int32"), 301);
const cases = {
  sum1: () => tf.sum(x3, 1),
  sum02: () => tf.sum(x3, [0, 2], true),
  sumAll: () => tf.sum(x3),
  mean2: () => tf.mean(x3, -1),
  max0: () => tf.max(x3, 0),
  max12: () => tf.max(x3, [1, 2]),
  argMax0: () => tf.argMax(x3, 0),
  argMax1: () => tf.argMax(x3, 1),
  argMax2: () => tf.argMax(x3, 2),
  splitSum: () => tf.sum(big),
  splitColumns: () => tf.sum(tall, 0),
  maxRows: () => tf.max(wide, 1),
  softmax: () => tf.softmax(logits),
  softmaxSpecial: () => tf.softmax(special),
  transpose2d: () => tf.transpose(wide),
  swapLast: () => tf.transpose(x3, [0, 2, 1]),
  transpose4d: () => tf.transpose(tf.reshape(x3, [37, 19, 1, 5]), [3, 1, 0, 2]),
  transposeInt: () => tf.transpose(tf.cast(tf.mul(wide, 1000), "int32")),
  gather: () => tf.gather(table, idx),
  gather1: () => tf.gather(table, tf.tensor1d([18, 0, 7], "int32"), 1),
  segmentSum: () => tf.unsortedSegmentSum(seg, ids, 8),
  embeddingGrad: () => tf.grad((e) => tf.sum(tf.square(tf.gather(e, idx))))(table),
  crossEntropyGrad: () => tf.grad((l) => tf.losses.softmaxCrossEntropy(labels, l))(logits),
  gelu: () => ops.gelu(wide),
  geluGrad: () => tf.grad((a) => tf.sum(tf.mul(ops.gelu(a), wide)))(wide),
  siluGrad: () => tf.grad((a) => tf.sum(tf.mul(ops.silu(a), wide)))(wide),
  swigluGrads: () => tf.concat(tf.grads((a, b) => tf.sum(tf.mul(ops.swigluGate(a, b), wide)))([wide, tf.neg(wide)])),
  rmsNorm: () => ops.rmsNorm(wide, gain),
  rmsNormGrad: () => tf.grad((a) => tf.sum(tf.mul(ops.rmsNorm(a, gain), wide)))(wide),
  rmsNormGainGrad: () => tf.grad((g) => tf.sum(tf.mul(ops.rmsNorm(wide, g), wide)))(gain),
  fusedCrossEntropy: () => ops.softmaxCrossEntropy(logits, targets),
  fusedCrossEntropyGrad: () => tf.grad((l) => ops.softmaxCrossEntropy(l, targets))(logits),
};
const error = (a, e) => {
  if (Number.isNaN(e)) return Number.isNaN(a) ? 0 : Infinity;
  if (!Number.isFinite(e)) return a === e ? 0 : Infinity;
  return Math.abs(a - e) / (1e-6 + 1e-5 * Math.abs(e));
};
(async () => {
  await useBackend("native");
  const errors = {};
  for (const [name, f] of Object.entries(cases)) {
    const values = {};
    for (const backend of ["cpu", "native"]) {
      await tf.setBackend(backend);
      const t = tf.tidy(f);
      values[backend] = { shape: t.shape.join(","), data: t.dataSync() };
      t.dispose();
    }
    let worst = values.cpu.shape === values.native.shape ? 0 : Infinity;
    values.cpu.data.forEach((e, i) => (worst = Math.max(worst, error(values.native.data[i], e))));
    errors[name] = worst;
  }
  process.stdout.write(JSON.stringify({ isa: nativeAddon().info().isa, errors }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
`;

describe("reduction, layout and fused kernels on every instruction set", () => {
  for (const cap of ["avx2", "scalar"] as const) {
    it(`equal cpu with MOELAB_ISA=${cap}`, async () => {
      await useBackend("native"); // fails here, with the reason, when the addon is not built
      const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", CHILD], {
        cwd: root,
        env: { ...process.env, MOELAB_ISA: cap, TS_NODE_PROJECT: path.join(root, "tsconfig.json") },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(child.status, child.stderr).toBe(0);
      const report = JSON.parse(child.stdout) as { isa: string; errors: Record<string, number> };
      // the cap lowers the ISA; a CPU without AVX2 runs the baseline either way
      const expected = cap === "avx2" && nativeAddon()!.info().isa !== "scalar" ? "avx2" : "scalar";
      expect(report.isa).toBe(expected);
      expect(Object.keys(report.errors).length).toBe(32);
      for (const [name, worst] of Object.entries(report.errors)) {
        expect(worst, `${name} on ${report.isa}`).toBeLessThanOrEqual(1);
      }
    });
  }
});
