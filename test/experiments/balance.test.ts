// balanceRun on lab.train's step and the lab's Adam gives the numbers the earlier tf.train.adam loop gave: bit for bit
// on cpu (the same float32 ops in the same order), within float noise on native (fused update), no tensor left behind.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { SkewedStream } from "../../lib/data/skewed-stream";
import { balanceRun, BalanceRun } from "../../lib/experiments/balance";
import type { MoEConfig } from "../../lib/moe/config";
import { MoELayer } from "../../lib/moe/layer";
import { loadMetrics } from "../../lib/moe/metrics";
import { randomNormal, seed } from "../../lib/random";

const LAYER: Partial<MoEConfig> = {
  nRouted: 8,
  topK: 2,
  nShared: 0,
  expertHidden: 8,
  balance: "auxfree",
  scoreFunc: "sigmoid",
  biasUpdateRate: 0.01,
};
const STEPS = 6;
const TOKENS = 64;

/** The loop as it was before lab.train's step: tf.train.adam(lr).minimize. */
function reference(
  stream: SkewedStream,
  layer: Partial<MoEConfig>,
  steps: number,
  tokens: number,
  lr = 1e-2,
): BalanceRun {
  const dim = stream.config.dim;
  const moe = new MoELayer(dim, layer);
  const teacher = randomNormal([dim, dim], 0, 1 / Math.sqrt(dim)); // [dim, dim]
  const opt = tf.train.adam(lr);
  const run: BalanceRun = { maxVio: [], load: [], loss: [] };
  for (let step = 0; step < steps; step++) {
    const x = stream.batch(tokens);
    let load: tf.Tensor | null = null;
    let mse = 0;
    const total = opt.minimize(
      () => {
        const out = moe.forward(x, { seqLen: tokens });
        load = tf.keep(out.load);
        const l = tf.mean(tf.square(tf.sub(out.y, tf.tanh(tf.matMul(x, teacher))))) as tf.Scalar;
        mse = l.dataSync()[0];
        return tf.add(l, out.auxLoss) as tf.Scalar;
      },
      true,
      moe.trainableVariables(),
    );
    moe.updateBias(load! as tf.Tensor1D);
    run.load.push(Array.from(load!.dataSync()));
    run.maxVio.push(loadMetrics(run.load[step]).maxVio);
    run.loss.push(mse);
    tf.dispose([x, load!, total!]);
  }
  tf.dispose([opt, teacher]);
  moe.dispose();
  return run;
}

function both(run: typeof balanceRun | typeof reference): BalanceRun {
  seed(4);
  const stream = new SkewedStream({ dim: 16, clusters: 8 });
  try {
    return run(stream, LAYER, STEPS, TOKENS);
  } finally {
    stream.dispose();
  }
}

describe("balanceRun", () => {
  it("equals the tf.train.adam loop bit for bit on cpu, leaving no tensor behind", async () => {
    await useBackend("cpu");
    const expected = both(reference);
    const before = tf.memory().numTensors;
    const actual = both(balanceRun);
    expect(tf.memory().numTensors).toBe(before);
    expect(actual).toEqual(expected);
  });

  it("equals it within float noise on native (fused Adam update)", async () => {
    await useBackend("native");
    const expected = both(reference);
    const actual = both(balanceRun);
    expect(actual.load).toEqual(expected.load);
    actual.loss.forEach((l, i) =>
      expect(Math.abs(l - expected.loss[i])).toBeLessThanOrEqual(1e-5 * Math.abs(expected.loss[i])),
    );
  });
});
