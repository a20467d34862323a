// Environments: CartPole-v1 against gymnasium's equations (a hand-solved first step and a fixed action sequence),
// termination, the 500-step cap, autoreset, seeding; the bandit; named errors for bad actions.
import { describe, expect, it } from "vitest";
import { Bandit, CartPole, DEFAULT_CARTPOLE } from "../../lib/rl";

/** gymnasium's CartPoleEnv.step (Euler kinematics), written out with its constants, as the oracle. */
function gymStep(s: number[], action: number): number[] {
  const [g, mc, mp, l, f, dt] = [9.8, 1.0, 0.1, 0.5, 10.0, 0.02];
  const force = action === 1 ? f : -f;
  const [x, xd, th, thd] = s;
  const tmp = (force + mp * l * thd ** 2 * Math.sin(th)) / (mc + mp);
  const thacc = (g * Math.sin(th) - Math.cos(th) * tmp) / (l * (4.0 / 3.0 - (mp * Math.cos(th) ** 2) / (mc + mp)));
  const xacc = tmp - (mp * l * thacc * Math.cos(th)) / (mc + mp);
  return [x + dt * xd, xd + dt * xacc, th + dt * thd, thd + dt * thacc];
}

describe("CartPole", () => {
  it("uses CartPole-v1's constants and limits", () => {
    expect(DEFAULT_CARTPOLE).toMatchObject({
      gravity: 9.8,
      massCart: 1,
      massPole: 0.1,
      length: 0.5,
      forceMag: 10,
      tau: 0.02,
    });
    expect(DEFAULT_CARTPOLE.thetaThreshold).toBeCloseTo((12 * Math.PI) / 180, 12);
    expect(DEFAULT_CARTPOLE).toMatchObject({ xThreshold: 2.4, maxEpisodeSteps: 500, resetBound: 0.05 });
  });

  it("a push right from rest gives ẍ = 400/41 and θ̈ = −600/41 (solved by hand)", () => {
    const env = new CartPole({ numEnvs: 1, seed: 0 });
    env.reset();
    env.state.fill(0);
    const { observations, rewards } = env.step([1]);
    const expected = [0, 0.02 * (400 / 41), 0, -0.02 * (600 / 41)];
    Array.from(observations).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(rewards[0]).toBe(1);
  });

  it("follows gymnasium's equations over a fixed action sequence (float32 observations of a float64 state)", () => {
    const env = new CartPole({ numEnvs: 2, seed: 3 });
    const obs = env.reset();
    let ref = [Array.from(env.state.slice(0, 4)), Array.from(env.state.slice(4, 8))];
    Array.from(obs).forEach((v, i) => expect(v).toBe(Math.fround(ref[i >> 2][i % 4])));
    const actions = [1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0];
    for (const a of actions) {
      ref = [gymStep(ref[0], a), gymStep(ref[1], 1 - a)];
      const out = env.step([a, 1 - a]);
      expect(out.terminated).toEqual(new Uint8Array([0, 0]));
      Array.from(out.observations).forEach((v, i) => expect(v).toBe(Math.fround(ref[i >> 2][i % 4])));
    }
  });

  it("terminates past 12°, pays 1 on that step, reports the episode and restarts within ±0.05", () => {
    const env = new CartPole({ numEnvs: 1, seed: 1 });
    env.reset();
    let steps = 0;
    for (;;) {
      const out = env.step([1]);
      steps++;
      if (out.terminated[0]) {
        expect(out.rewards[0]).toBe(1);
        expect(out.truncated[0]).toBe(0);
        expect(out.episodes).toEqual([{ env: 0, return: steps, length: steps }]);
        expect(Math.max(...Array.from(out.observations, Math.abs))).toBeLessThanOrEqual(0.05);
        break;
      }
      expect(out.episodes).toEqual([]);
    }
    expect(steps).toBeGreaterThan(5);
    expect(steps).toBeLessThan(30);
  });

  it("truncates a balanced pole at 500 steps", () => {
    const env = new CartPole({ numEnvs: 1, seed: 2 });
    let obs = env.reset();
    for (let t = 1; t <= 500; t++) {
      const out = env.step([obs[2] + 0.5 * obs[3] > 0 ? 1 : 0]); // lean-following controller
      obs = out.observations;
      expect(out.terminated[0]).toBe(0);
      expect(out.truncated[0]).toBe(t === 500 ? 1 : 0);
      if (t === 500) expect(out.episodes).toEqual([{ env: 0, return: 500, length: 500 }]);
    }
  });

  it("same seed, same episodes; another seed, other starts", () => {
    const run = (seed: number) => {
      const env = new CartPole({ numEnvs: 3, seed });
      const trace = [Array.from(env.reset())];
      for (let t = 0; t < 60; t++) trace.push(Array.from(env.step([t % 2, 1, 0]).observations));
      return trace;
    };
    expect(run(4)).toEqual(run(4));
    expect(run(4)[0]).not.toEqual(run(5)[0]);
  });

  it("names the problem on bad actions and bad settings", () => {
    const env = new CartPole({ numEnvs: 2, seed: 0 });
    expect(() => env.step([0, 1])).toThrow(/CartPole\.step\(actions\): call reset\(\) before the first step/);
    env.reset();
    expect(() => env.step([0])).toThrow(/expected 2 actions \(one per environment\), got 1/);
    expect(() => env.step([0, 2])).toThrow(/actions\[1\] is 2; expected an integer in \[0, 2\)/);
    expect(() => new CartPole({ numEnvs: 0 })).toThrow(/CartPole: config\.numEnvs must be a positive integer/);
    expect(() => new CartPole({ tau: -1 })).toThrow(/CartPole: config\.tau must be a finite number/);
  });
});

describe("Bandit", () => {
  it("pays around the pulled arm's mean; every pull is an episode", () => {
    const env = new Bandit({ numEnvs: 4, arms: 5, seed: 9, rewardStd: 0.5 });
    env.reset();
    const best = env.optimalArm();
    expect(env.means[best]).toBe(Math.max(...env.means));
    let sum = 0;
    for (let t = 0; t < 500; t++) {
      const out = env.step([best, best, best, best]);
      expect(out.episodes).toHaveLength(4);
      sum += out.rewards.reduce((s, r) => s + r, 0);
    }
    expect(sum / 2000).toBeCloseTo(env.means[best], 1);
    expect(() => env.step([0, 0, 0, 5])).toThrow(
      /Bandit\.step\(actions\): actions\[3\] is 5; expected an integer in \[0, 5\)/,
    );
  });
});
