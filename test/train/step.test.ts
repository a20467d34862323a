// The one optimizer step (lib/train/step.ts) under fit: a NaN or infinite loss or gradient norm is caught before the
// update (the weights stay those before the step; "stop" throws and says so, "skip" goes on and reports the step), and
// a loss function that throws leaks no tensor (tfjs's variableGrads leaves its tape behind on a throw). Issue 13 items 3
// and 7.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { fit, FitOptions } from "../../lib/train/fit";
import { adam } from "../../lib/train/optimizer";
import { DEFAULT_STEP, NonFiniteStepError, optimizerStep } from "../../lib/train/step";
import { Batch, randomBatches } from "../../lib/data/batch";
import { seed } from "../../lib/random";
import { selectBackend } from "../../lib/backend-select";
import "../../lib/ops";
import { TinyLM, tinyStream } from "./tiny";

const V = 16;
const stream = tinyStream(V, 2000);
beforeAll(() => selectBackend());

function model(dropout = 0.1): TinyLM {
  seed(3);
  return new TinyLM(V, 8, dropout);
}

/** A copy of every weight, in the module's order. */
function weights(m: TinyLM): Float32Array[] {
  return m.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
}

function options(
  m: TinyLM,
  bad: (step: number) => boolean,
  badLoss: (b: Batch) => tf.Scalar,
  config: FitOptions<Batch>["config"] = {},
) {
  const snapshots: Float32Array[][] = [];
  const opts: FitOptions<Batch> = {
    module: m,
    loss: (b, step) => (bad(step) ? badLoss(b) : m.loss(b)),
    batches: randomBatches(stream, { batchSize: 4, seqLen: 8, seed: 5 }),
    afterStep: () => void snapshots.push(weights(m)),
    config: { steps: 5, schedule: { kind: "constant", lr: 0.05, warmupSteps: 0 }, seed: 1, ...config },
  };
  return { opts, snapshots };
}

describe("non-finite steps", () => {
  it("stop: a NaN loss at step 2 throws before the update, the weights are those after step 1", async () => {
    const m = model();
    const { opts, snapshots } = options(
      m,
      (s) => s === 2,
      (b) => tf.mul(m.loss(b), NaN) as tf.Scalar,
    );
    const before = tf.memory().numTensors;
    await expect(fit(opts)).rejects.toThrow(
      /fit: the loss is NaN at step 2 .*the update was not applied \(the weights are those before this step\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshots).toHaveLength(2);
    expect(weights(m)).toEqual(snapshots[1]);
    m.dispose();
  });

  it("stop: a finite loss with a NaN gradient norm is caught too", async () => {
    const m = model();
    const nanGrad = (b: Batch) => tf.add(m.loss(b), tf.mul(0, tf.sum(tf.sqrt(tf.sub(m.embed, m.embed))))) as tf.Scalar; // d√0 = ∞, 0·∞ = NaN
    const { opts, snapshots } = options(m, (s) => s === 1, nanGrad);
    await expect(fit(opts)).rejects.toThrow(/fit: the loss is \d\.\d+ at step 1 .*the gradient norm NaN/);
    expect(weights(m)).toEqual(snapshots[0]);
    m.dispose();
  });

  it("skip: the step is left out and reported, and the run goes on as if the step had not happened", async () => {
    const m = model(0);
    const { opts, snapshots } = options(
      m,
      (s) => s === 2,
      (b) => tf.mul(m.loss(b), Infinity) as tf.Scalar,
      { onNonFinite: "skip" },
    );
    const result = await fit(opts);
    expect(result.skippedSteps).toEqual([2]);
    expect(result.history.map((r) => r.skipped)).toEqual([false, false, true, false, false]);
    expect(result.history[2].loss).toBe(Infinity);
    expect(snapshots[2]).toEqual(snapshots[1]);
    // A run of 4 steps on the same batches less step 2's: the same weights (Adam's step count did not advance).
    const twin = model(0);
    const batches = randomBatches(stream, { batchSize: 4, seqLen: 8, seed: 5 });
    await fit({
      ...opts,
      module: twin,
      loss: (b) => twin.loss(b),
      batches: (s) => batches(s < 2 ? s : s + 1),
      afterStep: undefined,
      config: { ...opts.config, steps: 4 },
    });
    expect(weights(m)).toEqual(weights(twin));
    for (const w of weights(m)) expect(w.every(Number.isFinite)).toBe(true);
    m.dispose();
    twin.dispose();
  });

  it("rejects an unknown policy by name", async () => {
    const m = model();
    const { opts } = options(
      m,
      () => false,
      (b) => m.loss(b),
      { onNonFinite: "ignore" as never },
    );
    await expect(fit(opts)).rejects.toThrow('fit(options): config.onNonFinite must be "stop" or "skip", got ignore');
    m.dispose();
  });
});

describe("a loss that throws", () => {
  it("inside fit leaks no tensor (the gradient tape of the failed forward pass is freed)", async () => {
    const m = model();
    const { opts } = options(
      m,
      () => true,
      (b) => {
        m.loss(b);
        throw new Error("boom");
      },
    );
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await expect(fit(opts)).rejects.toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it("inside optimizerStep leaks no tensor, and the next step works", () => {
    const m = model();
    const optimizer = adam({ learningRate: 0.01 });
    const batch = randomBatches(stream, { batchSize: 4, seqLen: 8, seed: 5 })(0);
    const vars = m.trainableVariables();
    optimizerStep(optimizer, vars, () => m.loss(batch), DEFAULT_STEP); // creates the moments
    const before = tf.memory().numTensors;
    const failing = () => {
      const out = m.loss(batch);
      throw new Error(`boom after a loss of ${out.dataSync()[0]}`);
    };
    expect(() => optimizerStep(optimizer, vars, failing, DEFAULT_STEP)).toThrow(/^boom after a loss of/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => optimizerStep(optimizer, vars, () => tf.mul(m.loss(batch), NaN) as tf.Scalar, DEFAULT_STEP)).toThrow(
      NonFiniteStepError,
    );
    expect(tf.memory().numTensors).toBe(before);
    const step = optimizerStep(optimizer, vars, () => m.loss(batch), DEFAULT_STEP);
    expect(step.applied && Number.isFinite(step.loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(batch);
    optimizer.dispose();
    m.dispose();
  });
});
