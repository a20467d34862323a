// Cooperative cancellation (lib/cancel.ts): the library's long loops stop between two whole steps with a
// KeyboardInterrupt when their token is cancelled, free what they allocated, and leave the model as the last step
// left it; work outside runCancellable is never cancelled; a progress bar finished under a cancelled token says so.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { CancelToken, KeyboardInterrupt, cancelled, runCancellable, throwIfCancelled } from "../lib/cancel";
import { selectBackend } from "../lib/backend-select";
import { Linear } from "../lib/nn/linear";
import { fit } from "../lib/train/fit";
import { generate } from "../lib/model";
import { SkewedStream } from "../lib/data/skewed-stream";
import { balanceRun } from "../lib/experiments/balance";
import { MlpClassifier, trainClassifier } from "../lib/experiments/classifier";
import { loadFashionMnist, sliceImages } from "../lib/data/fashion-mnist";
import { Bandit, sampleCompletions, trainLmRl, trainPpo } from "../lib/rl";
import { task, tinyArithmeticModel } from "./helpers/arithmetic";
import { progress } from "../lib/progress";
import { Rng, seed } from "../lib/random";

beforeAll(() => selectBackend());

/** A cancelled token (work run under it stops at once). */
function cancelledToken(): CancelToken {
  const token = new CancelToken();
  token.cancel("test stop");
  return token;
}

const snapshot = (m: { trainableVariables(): tf.Variable[] }) =>
  m.trainableVariables().map((v) => Array.from(v.dataSync()));

describe("CancelToken", () => {
  it("throws a KeyboardInterrupt only under a cancelled token, and the token follows async work", async () => {
    expect(cancelled()).toBe(false);
    expect(() => throwIfCancelled()).not.toThrow(); // outside any token: plain scripts
    const token = new CancelToken();
    const seen: boolean[] = [];
    const work = runCancellable(token, async () => {
      for (let i = 0; i < 3; i++) {
        seen.push(cancelled());
        await new Promise((r) => setTimeout(r, 5));
      }
      throwIfCancelled("after three");
    });
    token.cancel("stop now");
    const e = await work.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeyboardInterrupt);
    expect((e as Error).name).toBe("KeyboardInterrupt");
    expect((e as Error).message).toMatch(/^stop now \(after three\)/);
    expect(seen).toEqual([false, true, true]);
    expect(cancelled()).toBe(false); // the caller's context is not affected
  });
});

describe("fit under an interrupt", () => {
  it("stops before the next step, keeps the last whole step's weights and frees everything", async () => {
    seed(1);
    const net = new Linear(6, 4);
    const before = tf.memory().numTensors;
    const token = new CancelToken();
    const steps: number[] = [];
    let weightsAtLastStep: number[][] = [];
    const run = runCancellable(token, () =>
      fit({
        module: net,
        batches: () => ({ inputs: tf.ones([8, 6]) }),
        loss: (b: { inputs: tf.Tensor }) => tf.mean(tf.square(tf.sub(net.apply(b.inputs), 1))) as tf.Scalar,
        afterStep: (info) => {
          steps.push(info.step);
          weightsAtLastStep = snapshot(net);
          if (info.step === 2) token.cancel("interrupted (test)");
        },
        config: { steps: 50, yieldMs: 0 },
      }),
    );
    await expect(run).rejects.toThrow(KeyboardInterrupt);
    await expect(run).rejects.toThrow(/fit, before step 4 of 50/);
    expect(steps).toEqual([0, 1, 2]);
    expect(snapshot(net)).toEqual(weightsAtLastStep);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe("every long library loop observes the token", () => {
  it("generate and sampleCompletions", () => {
    const model = tinyArithmeticModel();
    const before = tf.memory().numTensors;
    runCancellable(cancelledToken(), () => {
      expect(() => generate(model, [1, 2], 3)).toThrow(KeyboardInterrupt);
      expect(() => sampleCompletions(model, [[1, 2]], 3, task.endId, {}, new Rng(1))).toThrow(KeyboardInterrupt);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(generate(model, [1, 2], 3)).toHaveLength(3); // no token outside: runs
    model.dispose();
  });

  it("balanceRun and trainClassifier free their layer and optimizer", () => {
    const stream = new SkewedStream({ dim: 8 });
    const model = new MlpClassifier({ hidden: [8] });
    const weights = snapshot(model);
    const images = sliceImages(loadFashionMnist("test"), 0, 64);
    const before = tf.memory().numTensors;
    runCancellable(cancelledToken(), () => {
      expect(() => balanceRun(stream, { nRouted: 4, topK: 2 }, 5, 16)).toThrow(KeyboardInterrupt);
      expect(() => trainClassifier(model, images, { steps: 3, batchSize: 16 })).toThrow(KeyboardInterrupt);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(snapshot(model)).toEqual(weights);
    stream.dispose();
    model.dispose();
  });

  it("trainPpo and trainLmRl", async () => {
    const before = tf.memory().numTensors;
    const token = cancelledToken();
    await runCancellable(token, async () => {
      await expect(
        trainPpo(new Bandit({ numEnvs: 2, arms: 3, seed: 1 }), { numSteps: 4, numMinibatches: 1, totalTimesteps: 64 }),
      ).rejects.toThrow(KeyboardInterrupt);
      const policy = tinyArithmeticModel();
      const weights = snapshot(policy);
      await expect(trainLmRl(policy, task, { steps: 3, promptsPerStep: 2, groupSize: 2 })).rejects.toThrow(
        KeyboardInterrupt,
      );
      expect(snapshot(policy)).toEqual(weights);
      policy.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("progress bars", () => {
  it("mark the final state interrupted when finished under a cancelled token", () => {
    const lines: string[] = [];
    const stream = { write: (t: string) => lines.push(t), isTTY: false };
    runCancellable(cancelledToken(), () => {
      const bar = progress(10, { stream });
      bar.tick(3);
      bar.done();
    });
    expect(lines.at(-1)).toMatch(/3\/10 .* interrupted\n$/);
    const plain: string[] = [];
    const bar = progress(2, { stream: { write: (t: string) => plain.push(t), isTTY: false } });
    bar.tick(2);
    bar.done();
    expect(plain.at(-1)).not.toMatch(/interrupted/);
  });
});
