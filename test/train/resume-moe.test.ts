// Exact resume on the lab's MoE language model with aux-loss-free balancing: the router biases are buffers updated by
// afterStep, not by the optimizer, so a checkpoint must carry them (Module.stateDict()) for the losses to match.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Batch, randomBatches } from "../../lib/data/batch";
import { TransformerLM } from "../../lib/model";
import { seed } from "../../lib/random";
import { fit, FitOptions } from "../../lib/train/fit";
import { restoreCheckpoint } from "../../lib/train/checkpoint";
import { tinyStream } from "./tiny";

const CONFIG = {
  vocabSize: 16,
  dim: 16,
  nLayers: 2,
  nHeads: 2,
  contextLen: 16,
  ffnHidden: 24,
  ffn: "moe" as const,
  nDenseLayers: 1,
  moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8, balance: "auxfree" as const },
};
const dir = mkdtempSync(path.join(tmpdir(), "moelab-moe-"));

beforeAll(() => selectBackend());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(init: number): TransformerLM {
  seed(init);
  return new TransformerLM(CONFIG);
}

function options(m: TransformerLM, config: FitOptions<Batch>["config"]): FitOptions<Batch> {
  return {
    module: m,
    loss: (b) => m.stepLoss(b.inputs, b.targets),
    batches: randomBatches(tinyStream(16, 3000), { batchSize: 4, seqLen: 16, seed: 1 }),
    afterStep: (info) => void m.afterStep(info.aux),
    config: { steps: 12, seed: 2, schedule: { kind: "constant", lr: 1e-2, warmupSteps: 0 }, ...config },
  };
}

describe("checkpoint and resume of an aux-free MoE model", () => {
  it("resumes with the same losses and restores identical logits (router biases included)", async () => {
    const a = model(0);
    const full = await fit(options(a, { checkpointDir: dir, checkpointEvery: 6 }));
    const biases = [...a.namedBuffers().values()];
    expect(biases.length).toBeGreaterThan(0);
    expect(biases.some((b) => b.dataSync().some((v) => v !== 0))).toBe(true); // the bias rule moved them

    const b = model(5);
    const resumed = await fit(options(b, { resumeFrom: path.join(dir, "step-000006") }));
    expect(resumed.history.map((h) => h.loss)).toEqual(full.history.slice(6).map((h) => h.loss));

    const c = model(9);
    restoreCheckpoint(path.join(dir, "step-000012"), c);
    const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], "int32");
    const logits = [a, b, c].map((m) => tf.tidy(() => Array.from(m.forward(x).logits.dataSync())));
    expect(logits[1]).toEqual(logits[0]);
    expect(logits[2]).toEqual(logits[0]);
    tf.dispose(x);
    [a, b, c].forEach((m) => m.dispose());
  });
});
