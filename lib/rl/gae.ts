// Generalised advantage estimation with done masks, in cleanrl's convention: dones[t] = 1 marks that observation t
// starts a new episode (the step before it ended one), nextDone the same for the observation after the rollout.
// Reference: cleanrl ppo.py ("bootstrap value if not done"); Schulman et al., "High-Dimensional Continuous Control
// Using Generalized Advantage Estimation" (2016), eq. 16.
import * as tf from "@tensorflow/tfjs";
import { checkRange, checkShape, withDefaults, type Dim } from "../check";

/** GAE settings (cleanrl's defaults). */
export interface GaeConfig {
  /** Discount γ. */
  gamma: number;
  /** GAE λ: 0 = one-step TD error, 1 = Monte-Carlo return minus V. */
  lambda: number;
}

export const DEFAULT_GAE: Readonly<GaeConfig> = Object.freeze({ gamma: 0.99, lambda: 0.95 });

/** A rollout of T steps of N environments. */
export interface GaeInputs {
  /** r_t [T, N] (or [T] for one environment). */
  rewards: tf.Tensor;
  /** V(s_t) [T, N] (or [T]). */
  values: tf.Tensor;
  /** 1 where observation t starts a new episode, else 0 [T, N] (or [T]). */
  dones: tf.Tensor;
  /** V(s_T) of the observation after the rollout [N] (or [] with [T] inputs). */
  nextValue: tf.Tensor;
  /** Whether that observation starts a new episode [N] (or []). */
  nextDone: tf.Tensor;
}

/** Advantages and return targets, shaped like `rewards`. */
export interface GaeOutput {
  /** A_t = δ_t + γλ(1 − d_{t+1})A_{t+1}, δ_t = r_t + γV(s_{t+1})(1 − d_{t+1}) − V(s_t). */
  advantages: tf.Tensor;
  /** A_t + V(s_t): the value targets. */
  returns: tf.Tensor;
}

/** GAE on flat row-major arrays [T, N]; the loop rl.gae runs after its checks. */
export function gaeArrays(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  dones: ArrayLike<number>,
  nextValue: ArrayLike<number>,
  nextDone: ArrayLike<number>,
  config: GaeConfig,
): { advantages: Float32Array; returns: Float32Array } {
  const n = nextValue.length;
  const steps = rewards.length / n;
  const { gamma, lambda } = config;
  const advantages = new Float32Array(rewards.length);
  const returns = new Float32Array(rewards.length);
  for (let e = 0; e < n; e++) {
    let last = 0;
    for (let t = steps - 1; t >= 0; t--) {
      const i = t * n + e;
      const notDone = t === steps - 1 ? 1 - nextDone[e] : 1 - dones[i + n];
      const next = t === steps - 1 ? nextValue[e] : values[i + n];
      const delta = rewards[i] + gamma * next * notDone - values[i];
      last = delta + gamma * lambda * notDone * last;
      advantages[i] = last;
      returns[i] = last + values[i];
    }
  }
  return { advantages, returns };
}

/** GAE advantages and returns of a rollout (cleanrl ppo.py); errors name the input and the expected shape. */
export function gae(inputs: GaeInputs, config: Partial<GaeConfig> = {}): GaeOutput {
  const fn = "rl.gae";
  const cfg = withDefaults("rl.gae(inputs, config)", DEFAULT_GAE, config);
  checkRange(fn, "config.gamma", cfg.gamma, 0, 1);
  checkRange(fn, "config.lambda", cfg.lambda, 0, 1);
  const { rewards, values, dones, nextValue, nextDone } = inputs;
  for (const [name, t] of Object.entries(inputs)) {
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: inputs.${name} must be a tf.Tensor, got ${typeof t}`);
  }
  if (rewards.rank !== 1 && rewards.rank !== 2)
    throw new Error(`${fn}: inputs.rewards must have shape [T, N] or [T], got [${rewards.shape}]`);
  if (rewards.shape[0] === 0) throw new Error(`${fn}: inputs.rewards is empty; expected at least one step`);
  const lead: Dim[] = rewards.shape.map((size, i) => ({ [i === 0 ? "T" : "N"]: size })); // [T=…, N=…], as rewards
  checkShape(fn, "inputs.values", values.shape, lead);
  checkShape(fn, "inputs.dones", dones.shape, lead);
  checkShape(fn, "inputs.nextValue", nextValue.shape, lead.slice(1));
  checkShape(fn, "inputs.nextDone", nextDone.shape, lead.slice(1));
  const arrays = [rewards, values, dones, nextValue, nextDone].map((t) => t.dataSync());
  const names = ["rewards", "values", "dones", "nextValue", "nextDone"];
  arrays.forEach((a, k) => {
    const bad = a.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${fn}: inputs.${names[k]}[${bad}] is ${a[bad]}; expected finite numbers`);
  });
  for (const k of [2, 4]) {
    const bad = arrays[k].findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new Error(`${fn}: inputs.${names[k]}[${bad}] is ${arrays[k][bad]}; expected 0 or 1`);
  }
  const out = gaeArrays(arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], cfg);
  return { advantages: tf.tensor(out.advantages, rewards.shape), returns: tf.tensor(out.returns, rewards.shape) };
}
