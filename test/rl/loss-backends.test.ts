// The PPO and GRPO losses give the same values and gradients on cpu, wasm and native (the library is backend-neutral;
// wasm builds masks by comparison, never with its broken float32 oneHot).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { availableBackends, useBackend } from "../../lib/backend-select";
import { grpo, grpoAdvantages, ppo } from "../../lib/rl";
import { Rng } from "../../lib/random";

const rng = new Rng(11);
const draw = (n: number, scale = 1) => Array.from({ length: n }, () => scale * rng.normal());

// One random minibatch of PPO inputs [8] and GRPO inputs [4, 3].
const ppoData = {
  lp: draw(8, 0.3).map((v) => v - 0.7),
  old: draw(8, 0.3).map((v) => v - 0.7),
  adv: draw(8),
  v: draw(8),
  vOld: draw(8),
  ret: draw(8),
  ent: draw(8, 0.1).map((v) => 0.6 + v),
};
const grpoData = {
  lp: draw(12, 0.3).map((v) => v - 1),
  old: draw(12, 0.3).map((v) => v - 1),
  ref: draw(12, 0.3).map((v) => v - 1),
  rewards: [1, 0, 0, 1],
};

/** Loss values and the gradients with respect to the new log-probabilities, on the current backend. */
function compute(): number[] {
  const d = ppoData;
  const t = tf.tensor1d;
  const [ppoGrad, ppoLoss] = tf.tidy(() => {
    const f = (lp: tf.Tensor) =>
      ppo({
        newLogProb: lp,
        oldLogProb: t(d.old),
        advantages: t(d.adv),
        newValues: t(d.v),
        oldValues: t(d.vOld),
        returns: t(d.ret),
        entropy: t(d.ent),
      }).loss;
    const { value, grad } = tf.valueAndGrad(f)(t(d.lp));
    return [Array.from(grad.dataSync()), value.dataSync()[0]] as const;
  });
  const g = grpoData;
  const [grpoGrad, grpoLoss] = tf.tidy(() => {
    const adv = grpoAdvantages(t(g.rewards), { groupSize: 2 });
    const mask = tf.tensor2d([1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1], [4, 3]);
    const f = (lp: tf.Tensor) =>
      grpo({
        newLogProb: lp,
        oldLogProb: tf.tensor2d(g.old, [4, 3]),
        refLogProb: tf.tensor2d(g.ref, [4, 3]),
        advantages: adv,
        mask,
      }).loss;
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(g.lp, [4, 3]));
    return [Array.from(grad.dataSync()), value.dataSync()[0]] as const;
  });
  return [ppoLoss, ...ppoGrad, grpoLoss, ...grpoGrad];
}

describe("losses on every backend", () => {
  let start = "cpu";
  beforeAll(() => {
    tf.backend(); // initialises the default backend, so getBackend names it
    start = tf.getBackend();
  });
  afterAll(async () => {
    await useBackend(start);
  });

  it("cpu, wasm and native agree to 1e-5", async () => {
    const backends = await availableBackends();
    expect(backends).toContain("wasm");
    await useBackend("cpu");
    const reference = compute();
    for (const backend of backends.filter((b) => b !== "cpu" && b !== "tensorflow")) {
      await useBackend(backend);
      compute().forEach((v, i) => expect(Math.abs(v - reference[i]), `${backend} entry ${i}`).toBeLessThan(1e-5));
    }
  });
});
