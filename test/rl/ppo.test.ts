// PPO training pieces: orthogonal init, the actor-critic's sampling, and rl.trainPpo
// (learns a bandit's best arm, identical under one seed, no tensor growth, named config errors).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ActorCritic, Bandit, CartPole, meanLastReturns, orthogonal, smoothedReturns, trainPpo } from "../../lib/rl";
import { Rng, seed } from "../../lib/random";

describe("orthogonal", () => {
  it("has orthonormal columns (tall) or rows (wide), times the gain", () => {
    for (const [rows, cols] of [
      [6, 3],
      [3, 6],
      [4, 4],
    ]) {
      const w = orthogonal(rows, cols, 2, new Rng(1));
      const gram = rows >= cols ? tf.matMul(w, w, true, false) : tf.matMul(w, w, false, true);
      const k = Math.min(rows, cols);
      const eye = tf.mul(tf.eye(k), 4);
      expect(tf.max(tf.abs(tf.sub(gram, eye))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });
});

describe("ActorCritic", () => {
  it("samples actions in proportion to π and returns their log-probabilities and values", () => {
    seed(2);
    const agent = new ActorCritic(4, 3, { hidden: [8], policyGain: 1 });
    const obs = new Float32Array([0.3, -0.2, 0.1, 0.5]);
    const { logProbs, values } = agent.forward(tf.tensor2d(obs, [1, 4]));
    const lp = Array.from(logProbs.dataSync());
    const counts = [0, 0, 0];
    const rng = new Rng(4);
    for (let i = 0; i < 3000; i++) {
      const s = agent.act(obs, rng);
      counts[s.actions[0]]++;
      expect(s.logProbs[0]).toBeCloseTo(lp[s.actions[0]], 5);
      expect(s.values[0]).toBeCloseTo(values.dataSync()[0], 5);
    }
    counts.forEach((c, k) => expect(c / 3000).toBeCloseTo(Math.exp(lp[k]), 1));
    agent.dispose();
  });
});

describe("episode statistics", () => {
  it("averages the last n returns and a trailing window", () => {
    const eps = [10, 20, 30, 40].map((r, i) => ({ env: 0, return: r, length: r, globalStep: 100 * (i + 1) }));
    expect(meanLastReturns(eps, 2)).toBe(35);
    expect(meanLastReturns(eps, 10)).toBe(25);
    expect(meanLastReturns([], 5)).toBeNaN();
    expect(smoothedReturns(eps, 2)).toEqual({ x: [100, 200, 300, 400], y: [10, 15, 25, 35] });
    expect(() => smoothedReturns(eps, 0)).toThrow(/smoothedReturns: window must be a positive integer/);
  });
});

describe("rl.trainPpo", () => {
  const small = { numSteps: 16, numMinibatches: 2, updateEpochs: 4, learningRate: 0.01, agent: { hidden: [16] } };

  it("learns to pull the bandit's best arm", async () => {
    seed(5);
    const env = new Bandit({ numEnvs: 8, arms: 5, seed: 5 });
    const result = await trainPpo(env, { ...small, totalTimesteps: 8 * 16 * 25, gamma: 0 });
    const { logProbs } = result.agent.forward(tf.ones([1, 1]));
    expect(Math.exp(logProbs.dataSync()[env.optimalArm()])).toBeGreaterThan(0.9);
    expect(result.iterations).toHaveLength(25);
    expect(result.episodes).toHaveLength(8 * 16 * 25);
    result.agent.dispose();
  });

  it("is identical under one seed and leaves no tensors behind but the agent's", async () => {
    const run = async () => {
      seed(7);
      const before = tf.memory().numTensors;
      const result = await trainPpo(new CartPole({ numEnvs: 2 }), { ...small, totalTimesteps: 2 * 16 * 3 });
      const params = result.agent.trainableVariables();
      expect(tf.memory().numTensors).toBe(before + params.length);
      const out = {
        episodes: result.episodes,
        losses: result.iterations.map((i) => [i.pgLoss, i.vLoss]),
        w: params.map((p) => Array.from(p.dataSync())),
      };
      result.agent.dispose();
      return out;
    };
    const a = await run();
    expect(a.episodes.length).toBeGreaterThan(0);
    expect(await run()).toEqual(a);
  });

  it("valueTarget 'rewards' (the articles' ppo_update) fits the one-step reward, 'returns' the discounted return", async () => {
    const criticAfter = async (valueTarget: "returns" | "rewards") => {
      seed(11);
      const env = new CartPole({ numEnvs: 2, seed: 11 });
      const result = await trainPpo(env, { ...small, totalTimesteps: 2 * 16 * 40, valueTarget });
      const obs = new CartPole({ numEnvs: 8, seed: 12 }).reset();
      const values = Array.from(result.agent.value(obs));
      result.agent.dispose();
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    // CartPole pays 1 per step: the reward target is 1; the return from a fresh state is ~ Σ γ^t over the episode (≫ 1).
    const rewards = await criticAfter("rewards");
    const returns = await criticAfter("returns");
    expect(Math.abs(rewards - 1)).toBeLessThan(0.3);
    expect(returns).toBeGreaterThan(3);
    await expect(trainPpo(new CartPole({ numEnvs: 2 }), { valueTarget: "reward" as never })).rejects.toThrow(
      /config\.valueTarget must be "returns" or "rewards"/,
    );
  });

  it("a non-finite loss stops the run with a named error, or with onNonFinite 'skip' is left out and counted", async () => {
    /** A bandit whose first copy pays NaN every 7th step: GAE spreads it over that copy's rollout rows. */
    class NanBandit extends Bandit {
      private steps = 0;
      step(actions: Int32Array) {
        const out = super.step(actions);
        if (++this.steps % 7 === 0) out.rewards[0] = Number.NaN;
        return out;
      }
    }
    const settings = { ...small, totalTimesteps: 8 * 16 * 3 };
    seed(3);
    const before = tf.memory().numTensors;
    await expect(trainPpo(new NanBandit({ numEnvs: 8, arms: 3, seed: 3 }), settings)).rejects.toThrow(
      /rl\.trainPpo: the loss is NaN .* in iteration 1 \(step 128\); no update was applied: set config\.onNonFinite = "skip"/,
    );
    expect(tf.memory().numTensors).toBe(before); // the run's own agent and optimizer are freed
    seed(3);
    const result = await trainPpo(new NanBandit({ numEnvs: 8, arms: 3, seed: 3 }), {
      ...settings,
      onNonFinite: "skip",
    });
    expect(result.iterations).toHaveLength(3);
    const skipped = result.iterations.map((i) => i.skippedUpdates);
    expect(skipped.every((n) => n > 0 && n <= small.updateEpochs * small.numMinibatches)).toBe(true);
    for (const p of result.agent.trainableVariables()) expect(p.dataSync().every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before + result.agent.trainableVariables().length);
    result.agent.dispose();
    await expect(trainPpo(new Bandit({ numEnvs: 2 }), { onNonFinite: "ignore" as never })).rejects.toThrow(
      /config\.onNonFinite must be "stop" or "skip"/,
    );
  });

  it("names bad settings", async () => {
    const env = new CartPole({ numEnvs: 2 });
    await expect(trainPpo(env, { numSteps: 5, numMinibatches: 4 })).rejects.toThrow(
      /rl\.trainPpo: config\.numMinibatches \(4\) must divide numSteps × numEnvs = 10/,
    );
    await expect(trainPpo(env, { totalTimesteps: 10 })).rejects.toThrow(
      /config\.totalTimesteps \(10\) is less than one rollout \(256 steps\)/,
    );
    await expect(trainPpo(env, { loss: { vfCoef: -1 } as never })).rejects.toThrow(
      /rl\.trainPpo: config\.vfCoef must be a finite number in \[0, /,
    );
    await expect(trainPpo(env, {}, { agent: new ActorCritic(3, 2) })).rejects.toThrow(
      /options\.agent expects 3 inputs and 2 actions; the environment has 4 and 2/,
    );
  });
});
