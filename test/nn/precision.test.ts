// bf16 mixed precision: Linear's product and its gradients in bf16 stay within bf16's error of fp32 (DeepGEMM metric)
// yet differ from it (bf16 really ran); products of fewer than BF16_MIN_ROWS rows stay fp32; a tiny TransformerLM
// trained 40 fit steps in bf16 ends within 1% of the fp32 run's loss; the precision scope restores itself; bad
// settings are named. Skipped where the CPU has no bf16 product.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { matmulBf16Support } from "../../lib/native/kernels/matmul";
import { Linear } from "../../lib/nn/linear";
import { BF16_MIN_ROWS, matmulPrecision, withMatmulPrecision } from "../../lib/nn/precision";
import { lmConfig } from "../../lib/model/config";
import { TransformerLM } from "../../lib/model/transformer";
import { quantError } from "../../lib/quant/error";
import { seed } from "../../lib/random";
import { fit } from "../../lib/train/fit";

const bf16 = matmulBf16Support() === null;

describe("matmul precision", () => {
  it.skipIf(!bf16)("bf16 Linear: value and gradients within bf16 error of fp32, and not fp32", async () => {
    await useBackend("native");
    seed(1);
    const layer = new Linear(96, 40);
    const x = tf.randomNormal([50, 96]);
    const w = tf.randomNormal([50, 40]);
    const before = tf.memory().numTensors;
    const run = (p: "fp32" | "bf16") =>
      tf.tidy(() => {
        const f = () => withMatmulPrecision(p, () => tf.sum(tf.mul(layer.apply(x), w)) as tf.Scalar);
        const { value, grads } = tf.variableGrads(f, [layer.weight]);
        const dx = tf.grad((xx: tf.Tensor) => withMatmulPrecision(p, () => tf.sum(tf.mul(layer.apply(xx), w))))(x);
        return [
          withMatmulPrecision(p, () => layer.apply(x)).dataSync(),
          grads[layer.weight.name].dataSync(),
          dx.dataSync(),
          value.dataSync(),
        ];
      });
    const fp = run("fp32");
    const bf = run("bf16");
    expect(tf.memory().numTensors).toBe(before);
    for (const i of [0, 1, 2]) {
      const d = quantError(fp[i], bf[i]).deepgemm;
      expect(d, `output ${i}`).toBeLessThan(1e-4);
      expect(d, `output ${i} is not fp32`).toBeGreaterThan(1e-9);
    }
    tf.dispose([x, w]);
    layer.dispose();
  });

  it.skipIf(!bf16)(`bf16 mode keeps products of fewer than ${BF16_MIN_ROWS} rows in fp32`, async () => {
    await useBackend("native");
    seed(2);
    const layer = new Linear(64, 24);
    const before = tf.memory().numTensors;
    for (const [rows, isFp32] of [
      [BF16_MIN_ROWS - 1, true],
      [BF16_MIN_ROWS, false],
    ] as const) {
      const [fp, bf] = tf.tidy(() => {
        const x = tf.randomNormal([rows, 64]);
        return [layer.apply(x).dataSync(), withMatmulPrecision("bf16", () => layer.apply(x)).dataSync()];
      });
      expect(
        Array.from(bf).every((v, i) => v === fp[i]),
        `${rows} rows`,
      ).toBe(isFp32);
    }
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
  });

  it.skipIf(!bf16)("a tiny TransformerLM trained in bf16 ends within 1% of the fp32 loss", async () => {
    await useBackend("native");
    const losses: Record<string, number[]> = {};
    for (const precision of ["fp32", "bf16"] as const) {
      seed(4);
      const config = lmConfig({
        vocabSize: 32,
        dim: 32,
        nHeads: 2,
        nLayers: 2,
        contextLen: 16,
        ffnHidden: 48,
        precision,
      });
      const lm = new TransformerLM(config);
      // Learnable sequences: token t+1 = (token t · 5 + 3) mod 32 from a random start (a real loss curve, not noise).
      const batches = Array.from({ length: 16 }, (_, i) => {
        const seq = Int32Array.from({ length: 4 * 17 }, (_, n) => (n % 17 === 0 ? (i * 7 + n) % 32 : 0));
        for (let n = 0; n < seq.length; n++) if (n % 17) seq[n] = (seq[n - 1] * 5 + 3) % 32;
        const pick = (from: number) =>
          tf.tensor2d(
            Int32Array.from({ length: 64 }, (_, m) => seq[Math.floor(m / 16) * 17 + (m % 16) + from]),
            [4, 16],
            "int32",
          );
        return { inputs: pick(0), targets: pick(1) };
      });
      const r = await fit({
        module: lm,
        loss: (b: (typeof batches)[0]) => lm.stepLoss(b.inputs, b.targets),
        batches: (s) => ({ inputs: tf.clone(batches[s % 16].inputs), targets: tf.clone(batches[s % 16].targets) }),
        config: { steps: 40, schedule: { kind: "constant", lr: 3e-3, warmupSteps: 0 }, seed: 0 },
      });
      losses[precision] = r.history.map((h) => h.loss);
      batches.forEach((b) => tf.dispose([b.inputs, b.targets]));
      lm.dispose();
    }
    const [fp, bf] = [losses.fp32, losses.bf16];
    // The loss after 40 steps, as the mean of the last 5 (one pass over different batches: no single batch's noise).
    const end = (l: number[]) => l.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(end(fp)).toBeLessThan(fp[0] * 0.9); // it learned something
    expect(Math.abs(end(bf) - end(fp)) / end(fp)).toBeLessThan(0.01);
    expect(bf[0]).not.toBe(fp[0]); // bf16 products ran
  });

  it("scopes the precision and names bad settings", () => {
    expect(matmulPrecision()).toBe("fp32");
    expect(() =>
      withMatmulPrecision("fp32", () => {
        throw new Error("inner");
      }),
    ).toThrow("inner");
    expect(matmulPrecision()).toBe("fp32");
    expect(() => withMatmulPrecision("fp16" as "fp32", () => 0)).toThrow(/expected "fp32" or "bf16"/);
    expect(() => lmConfig({ precision: "fp8" as "fp32" })).toThrow(/precision must be "fp32" or "bf16"/);
    if (!bf16)
      expect(() => new TransformerLM({ precision: "bf16" })).toThrow(
        /TransformerLM\(config\.precision\): bf16 matmuls are not available here/,
      );
  });
});
