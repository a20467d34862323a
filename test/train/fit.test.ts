// The training loop: flat tensor count over 200 steps, identical loss curves for one seed, checkpoint save → load →
// identical outputs, resume → identical later losses, metrics JSONL, evaluation cadence, named config errors.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { fit, FitOptions } from "../../lib/train/fit";
import { evaluateLoss } from "../../lib/train/evaluate";
import { latestCheckpoint, restoreCheckpoint, saveCheckpoint } from "../../lib/train/checkpoint";
import { readMetrics } from "../../lib/train/metrics-log";
import { learningRate } from "../../lib/train/schedules";
import { Batch, evalBatches, randomBatches } from "../../lib/data/batch";
import { seed } from "../../lib/random";
import { currentBackend, selectBackend, useBackend } from "../../lib/backend-select";
import "../../lib/ops"; // the gradients and the wasm kernel (UnsortedSegmentSum) that tf.gather needs
import { TinyLM, tinyStream } from "./tiny";

const V = 16;
const stream = tinyStream(V, 4000);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "moelab-fit-"));
  dirs.push(d);
  return d;
};
beforeAll(() => selectBackend()); // the lab's default: native when the addon is built
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function model(init: number): TinyLM {
  seed(init);
  return new TinyLM(V, 8);
}

function options(m: TinyLM, config: FitOptions<Batch>["config"]): FitOptions<Batch> {
  return {
    module: m,
    loss: (b) => m.loss(b),
    batches: randomBatches(stream, { batchSize: 4, seqLen: 8, seed: 5 }),
    config: {
      schedule: { kind: "cosine", lr: 0.05, warmupSteps: 3, totalSteps: 30, minLr: 0.005 },
      seed: 11,
      ...config,
    },
  };
}

describe("fit", () => {
  it("keeps the tensor count flat over 200 steps and frees everything at the end", async () => {
    const m = model(0);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const result = await fit({
      ...options(m, { steps: 200 }),
      afterStep: () => void counts.push(tf.memory().numTensors),
    });
    expect(result.history).toHaveLength(200);
    expect(new Set(counts.slice(1)).size).toBe(1); // the moments appear at step 0, then nothing grows
    expect(tf.memory().numTensors).toBe(before);
    expect(result.history[199].loss).toBeLessThan(result.history[0].loss * 0.7);
    m.dispose();
  });

  it("gives identical loss curves for one seed (dropout drawn from the step-seeded stream), different for another", async () => {
    const run = async (s: number) => {
      const m = model(1);
      const r = await fit(options(m, { steps: 25, seed: s }));
      m.dispose();
      return r.history.map((h) => h.loss);
    };
    const a = await run(3);
    expect(await run(3)).toEqual(a);
    expect(await run(4)).not.toEqual(a);
  });

  it("schedules the learning rate, clips the gradient norm and counts tokens", async () => {
    const m = model(2);
    const r = await fit(options(m, { steps: 12, clipNorm: 1e-3 }));
    const schedule = { kind: "cosine", lr: 0.05, warmupSteps: 3, totalSteps: 30, minLr: 0.005 } as const;
    expect(r.history.map((h) => h.lr)).toEqual(r.history.map((_, s) => learningRate(schedule, s)));
    expect(r.history.every((h) => h.gradNorm > 1e-3 && h.tokens === 32)).toBe(true);
    expect(r.tokens).toBe(12 * 32);
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    m.dispose();
  });

  it("save → load gives identical logits; resume from a checkpoint gives the same later losses bit for bit", async () => {
    const dir = tempDir();
    const m1 = model(3);
    const full = await fit(options(m1, { steps: 30, checkpointDir: dir, checkpointEvery: 10 }));
    expect(readdirSync(dir).sort()).toEqual(["step-000010", "step-000020", "step-000030"]);
    expect(latestCheckpoint(dir)).toBe(path.join(dir, "step-000030"));

    const m2 = model(99); // different initial weights, overwritten by the checkpoint
    const resumed = await fit(options(m2, { steps: 30, resumeFrom: path.join(dir, "step-000010") }));
    expect(resumed.startStep).toBe(10);
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(10).map((h) => h.loss));

    const m3 = model(7);
    restoreCheckpoint(path.join(dir, "step-000030"), m3);
    const x = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
    seed(0);
    const [l1, l2] = [m1, m2].map((m) => {
      seed(0);
      return m.logits(x).dataSync();
    });
    seed(0);
    const l3 = m3.logits(x).dataSync();
    expect(Array.from(l2)).toEqual(Array.from(l1));
    expect(Array.from(l3)).toEqual(Array.from(l1));
    tf.dispose(x);
    [m1, m2, m3].forEach((m) => m.dispose());
  });

  it("a weights-only checkpoint restores the module; a missing optimizer file is a named error", () => {
    const dir = tempDir();
    const a = model(4);
    saveCheckpoint(dir, { module: a, optimizer: null, step: 0, seed: 0, config: { vocab: V } });
    const b = model(5);
    expect(restoreCheckpoint(dir, b).config).toEqual({ vocab: V });
    expect(Array.from(b.embed.dataSync())).toEqual(Array.from(a.embed.dataSync()));
    const other = new TinyLM(V, 4);
    expect(() => restoreCheckpoint(dir, other)).toThrow(
      'loadStateDict(state): "embed" has shape [16,8], expected [16,4]',
    );
    [a, b, other].forEach((m) => m.dispose());
  });

  it("writes JSONL metrics and evaluates every evalEvery steps and at the end", async () => {
    const file = path.join(tempDir(), "run", "metrics.jsonl");
    const m = model(6);
    const val = evalBatches(stream.subarray(3000), { batchSize: 4, seqLen: 8, maxBatches: 3 });
    const seen: number[] = [];
    const r = await fit({
      ...options(m, { steps: 10, logEvery: 4, evalEvery: 4, metricsPath: file }),
      evaluate: (step) => {
        seen.push(step);
        return evaluateLoss((b: Batch) => m.loss(b), val);
      },
    });
    expect(seen).toEqual([4, 8, 10]);
    expect(r.evals.map((e) => e.step)).toEqual([4, 8, 10]);
    const lines = readMetrics(file);
    expect(lines.filter((l) => "loss" in l).map((l) => l.step)).toEqual([3, 7, 9]);
    expect(lines.filter((l) => "eval.loss" in l).map((l) => l["eval.loss"])).toEqual(r.evals.map((e) => e.values.loss));
    m.dispose();
  });

  it("hands loss metrics and aux tensors to afterStep, then frees them", async () => {
    const m = model(8);
    const before = tf.memory().numTensors;
    let auxSum = 0;
    const r = await fit({
      ...options(m, { steps: 3 }),
      loss: (b) => ({
        loss: m.loss(b),
        metrics: { twice: tf.mul(m.loss(b), 0) as tf.Scalar, const: 7 },
        aux: { ones: tf.ones([3]) },
      }),
      afterStep: ({ aux, metrics }) => {
        auxSum += tf.tidy(() => aux.ones.sum().dataSync()[0]);
        expect(metrics.const).toBe(7);
      },
    });
    expect(auxSum).toBe(9);
    expect(r.history[0].metrics).toEqual({ twice: 0, const: 7 });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it("trains the same way on cpu, wasm and native (losses within 1e-4)", async () => {
    const home = currentBackend();
    const curves: number[][] = [];
    for (const backend of ["cpu", "wasm", "native"] as const) {
      await useBackend(backend);
      const m = model(10);
      curves.push((await fit(options(m, { steps: 6 }))).history.map((h) => h.loss));
      m.dispose();
    }
    await useBackend(home);
    for (const c of curves.slice(1))
      c.forEach((l, i) => expect(Math.abs(l - curves[0][i])).toBeLessThan(1e-4 * curves[0][i]));
  });

  it("rejects bad configs and a diverging loss by name", async () => {
    const m = model(9);
    await expect(fit(options(m, { steps: 0 }))).rejects.toThrow(
      "fit(options): config.steps must be an integer ≥ 1, got 0",
    );
    await expect(fit(options(m, { steps: 5, clipNorm: -1 }))).rejects.toThrow(
      "config.clipNorm must be > 0 or null, got -1",
    );
    await expect(fit(options(m, { steps: 5, optimizer: { beta2: 1 } }))).rejects.toThrow(
      "config.optimizer.beta2 must be in [0, 1), got 1",
    );
    await expect(
      fit(options(m, { steps: 5, schedule: { kind: "cosine", lr: 1, warmupSteps: 10, totalSteps: 5, minLr: 0 } })),
    ).rejects.toThrow("schedule.totalSteps must be an integer > warmupSteps (10)");
    const before = tf.memory().numTensors;
    await expect(
      fit({ ...options(m, { steps: 5 }), loss: (b) => tf.mul(m.loss(b), NaN) as tf.Scalar }),
    ).rejects.toThrow("fit: the loss is NaN at step 0");
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
