// PPO actor-critic training on a vectorised discrete-action environment: rollouts of numSteps × numEnvs, GAE,
// updateEpochs passes of shuffled minibatches, global grad-norm clipping, Adam (eps 1e-5), linear LR anneal,
// optional early stop on approximate KL. Reference: cleanrl ppo.py (defaults and loop order, CartPole-v1 settings).
import * as tf from "@tensorflow/tfjs";
import { cancelled, throwIfCancelled } from "../cancel";
import { checkPositiveInt, checkRange, withDefaults } from "../check";
import { DEFAULT_PPO_LOSS, PpoLossConfig, checkPpoLossConfig, ppo } from "./ppo-loss";
import { AdamW, adam } from "../train/optimizer";
import { DEFAULT_STEP, NonFinitePolicy, NonFiniteStepError, optimizerStep } from "../train/step";
import { yielder } from "../train/yielder";
import { Rng, rng as globalRng } from "../random";
import { ActorCritic, ActorCriticConfig, DEFAULT_ACTOR_CRITIC } from "./actor-critic";
import { gaeArrays } from "./gae";
import { EpisodeStat, VecEnv } from "./vec-env";

/** The value head's regression target (see PpoConfig.valueTarget). */
export type PpoValueTarget = "returns" | "rewards";

/** PPO training settings; the defaults are cleanrl ppo.py's (CartPole-v1). */
export interface PpoConfig {
  /** Environment steps in total (over all copies). */
  totalTimesteps: number;
  /** Steps per environment copy in one rollout. */
  numSteps: number;
  /** Adam step size at the start. */
  learningRate: number;
  /** Decay the step size linearly to 0 over the iterations. */
  annealLr: boolean;
  /** Discount γ. */
  gamma: number;
  /** GAE λ. */
  gaeLambda: number;
  /** Minibatches per epoch (numSteps × numEnvs must divide evenly). */
  numMinibatches: number;
  /** Passes over each rollout. */
  updateEpochs: number;
  /** Clip the global gradient norm to this. */
  maxGradNorm: number;
  /** Adam epsilon. */
  adamEps: number;
  /** Stop an update's epochs early once the approximate KL of the last minibatch exceeds this; null = never. */
  targetKl: number | null;
  /**
   * What the value head regresses on: "returns", R_t = A_t + V_old(s_t) (cleanrl, Schulman et al.); "rewards", the
   * one-step reward r_t, as the articles' sample `ppo_update` writes `F.mse_loss(model.value_head(states), rewards)`
   * (kept to show what it does: the critic then predicts the next reward, not the return, and GAE's baseline is off).
   */
  valueTarget: PpoValueTarget;
  /** The loss settings (clip range, coefficients, ratio form). */
  loss: PpoLossConfig;
  /** Network sizes and initial gains. */
  agent: ActorCriticConfig;
  /** Yield to the event loop at least this often, in ms (lets notebook progress displays update). */
  yieldMs: number;
  /**
   * A minibatch whose loss or gradient norm is NaN or ±Infinity: "stop" throws (naming the iteration; nothing is
   * updated), "skip" leaves that update out, keeps training and counts it (PpoIteration.skippedUpdates). Default "stop".
   */
  onNonFinite: NonFinitePolicy;
}

export const DEFAULT_PPO: Readonly<PpoConfig> = Object.freeze({
  totalTimesteps: 500_000,
  numSteps: 128,
  learningRate: 2.5e-4,
  annealLr: true,
  gamma: 0.99,
  gaeLambda: 0.95,
  numMinibatches: 4,
  updateEpochs: 4,
  maxGradNorm: 0.5,
  adamEps: 1e-5,
  targetKl: null,
  valueTarget: "returns" as PpoValueTarget,
  loss: DEFAULT_PPO_LOSS,
  agent: DEFAULT_ACTOR_CRITIC,
  yieldMs: 200,
  onNonFinite: "stop" as NonFinitePolicy,
});

/** PPO settings as callers give them: any field, `loss` and `agent` field by field. */
export type PpoSettings = Partial<Omit<PpoConfig, "loss" | "agent">> & {
  loss?: Partial<PpoLossConfig>;
  agent?: Partial<ActorCriticConfig>;
};

/** Merges partial settings over DEFAULT_PPO. */
export function ppoConfig(config: PpoSettings = {}): PpoConfig {
  const fn = "rl.ppo(config)";
  return {
    ...withDefaults(fn, DEFAULT_PPO, config),
    loss: withDefaults(fn, DEFAULT_PPO.loss, config.loss, [], "config.loss"),
    agent: withDefaults(fn, DEFAULT_PPO.agent, config.agent, [], "config.agent"),
  };
}

/** Statistics of one iteration (rollout + update); losses are those of the last minibatch, as cleanrl logs. */
export interface PpoIteration {
  iteration: number;
  /** Environment steps so far. */
  globalStep: number;
  learningRate: number;
  pgLoss: number;
  vLoss: number;
  entropy: number;
  approxKl: number;
  /** Mean clip fraction over the iteration's applied minibatch updates (NaN when none was applied). */
  clipFrac: number;
  /** Global gradient norm before clipping, last minibatch. */
  gradNorm: number;
  /** 1 − Var(R − V)/Var(R) over the rollout. */
  explainedVariance: number;
  /** Minibatch updates left out because their loss or gradient norm was not finite (onNonFinite "skip"). */
  skippedUpdates: number;
  /** Seconds since training started. */
  seconds: number;
}

/** A finished episode and the environment step at which it finished. */
export interface EpisodeRecord extends EpisodeStat {
  globalStep: number;
}

/** What training produced. */
export interface PpoResult {
  agent: ActorCritic;
  episodes: EpisodeRecord[];
  iterations: PpoIteration[];
  config: PpoConfig;
}

/** Hooks and starting points of a training run. */
export interface PpoOptions {
  /** Called after every iteration (progress bars, live plots). */
  onIteration?: (stats: PpoIteration, episodes: readonly EpisodeRecord[]) => void;
  /** Train this agent instead of a fresh one (its sizes must match the environment). */
  agent?: ActorCritic;
}

/** Mean return of the last `n` episodes (fewer if fewer finished; NaN when none did). */
export function meanLastReturns(episodes: readonly EpisodeStat[], n: number): number {
  checkPositiveInt("meanLastReturns", "n", n);
  const last = episodes.slice(-n);
  return last.length ? last.reduce((s, e) => s + e.return, 0) / last.length : NaN;
}

/** Mean return of the `window` episodes ending at each finished episode, against the step it finished at. */
export function smoothedReturns(episodes: readonly EpisodeRecord[], window: number): { x: number[]; y: number[] } {
  checkPositiveInt("smoothedReturns", "window", window);
  const x: number[] = [];
  const y: number[] = [];
  let sum = 0;
  episodes.forEach((e, i) => {
    sum += e.return - (i >= window ? episodes[i - window].return : 0);
    x.push(e.globalStep);
    y.push(sum / Math.min(i + 1, window));
  });
  return { x, y };
}

function checkPpoConfig(cfg: PpoConfig, numEnvs: number): void {
  const fn = "rl.trainPpo";
  for (const key of ["totalTimesteps", "numSteps", "numMinibatches", "updateEpochs"] as const)
    checkPositiveInt(fn, `config.${key}`, cfg[key]);
  checkRange(fn, "config.learningRate", cfg.learningRate, 0, Number.MAX_VALUE);
  checkRange(fn, "config.gamma", cfg.gamma, 0, 1);
  checkRange(fn, "config.gaeLambda", cfg.gaeLambda, 0, 1);
  checkRange(fn, "config.maxGradNorm", cfg.maxGradNorm, 0, Number.MAX_VALUE);
  checkRange(fn, "config.adamEps", cfg.adamEps, 0, Number.MAX_VALUE);
  if (cfg.valueTarget !== "returns" && cfg.valueTarget !== "rewards")
    throw new Error(`${fn}: config.valueTarget must be "returns" or "rewards", got ${JSON.stringify(cfg.valueTarget)}`);
  checkRange(fn, "config.yieldMs", cfg.yieldMs, 0, Number.MAX_VALUE);
  if (cfg.onNonFinite !== "stop" && cfg.onNonFinite !== "skip")
    throw new Error(`${fn}: config.onNonFinite must be "stop" or "skip", got ${JSON.stringify(cfg.onNonFinite)}`);
  if (cfg.targetKl !== null) checkRange(fn, "config.targetKl", cfg.targetKl, 0, Number.MAX_VALUE);
  checkPpoLossConfig(fn, cfg.loss);
  const batch = cfg.numSteps * numEnvs;
  if (batch % cfg.numMinibatches !== 0) {
    throw new Error(`${fn}: config.numMinibatches (${cfg.numMinibatches}) must divide numSteps × numEnvs = ${batch}`);
  }
  if (cfg.totalTimesteps < batch)
    throw new Error(`${fn}: config.totalTimesteps (${cfg.totalTimesteps}) is less than one rollout (${batch} steps)`);
}

/** One rollout's storage, flat row-major [T·N] (observations [T·N, obs]). */
interface Rollout {
  obs: Float32Array;
  actions: Int32Array;
  logProbs: Float32Array;
  rewards: Float32Array;
  dones: Float32Array;
  values: Float32Array;
}

/** Tensors of one minibatch, built from the rollout at the given sample indices. */
function minibatch(
  r: Rollout,
  adv: Float32Array,
  ret: Float32Array,
  idx: ArrayLike<number>,
  obsSize: number,
  numActions: number,
) {
  const m = idx.length;
  const obs = new Float32Array(m * obsSize);
  const oneHot = new Float32Array(m * numActions);
  const pick = (src: Float32Array) => Float32Array.from({ length: m }, (_, k) => src[idx[k]]);
  for (let k = 0; k < m; k++) {
    obs.set(r.obs.subarray(idx[k] * obsSize, (idx[k] + 1) * obsSize), k * obsSize);
    oneHot[k * numActions + r.actions[idx[k]]] = 1;
  }
  return {
    obs: tf.tensor2d(obs, [m, obsSize]), // [M, obs]
    oneHot: tf.tensor2d(oneHot, [m, numActions]), // [M, A]
    oldLogProb: tf.tensor1d(pick(r.logProbs)), // [M]
    advantages: tf.tensor1d(pick(adv)), // [M]
    returns: tf.tensor1d(pick(ret)), // [M]
    oldValues: tf.tensor1d(pick(r.values)), // [M]
  };
}

/** Population variance of `a`. */
function variance(a: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i] / a.length;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - mean) ** 2;
  return s / a.length;
}

/** 1 − Var(R − V)/Var(R) (cleanrl's explained_var; NaN when the returns do not vary). */
function explainedVariance(values: Float32Array, returns: Float32Array): number {
  const varR = variance(returns);
  return varR === 0 ? NaN : 1 - variance(returns.map((v, i) => v - values[i])) / varR;
}

/**
 * One gradient step on a minibatch; returns [pgLoss, vLoss, entropy, approxKl, clipFrac, gradNorm, applied (1 or 0)].
 * A non-finite loss throws (onNonFinite "stop") or is left out (0 in the last slot).
 */
function updateStep(
  agent: ActorCritic,
  optimizer: AdamW,
  mb: ReturnType<typeof minibatch>,
  cfg: PpoConfig,
): Float32Array {
  const step = { ...DEFAULT_STEP, clipNorm: cfg.maxGradNorm, onNonFinite: cfg.onNonFinite };
  const {
    metrics: m,
    gradNorm,
    applied,
  } = optimizerStep(
    optimizer,
    agent.trainableVariables(),
    () => {
      const ev = agent.evaluate(mb.obs, mb.oneHot);
      const out = ppo(
        {
          newLogProb: ev.logProb,
          oldLogProb: mb.oldLogProb,
          advantages: mb.advantages,
          newValues: ev.values,
          oldValues: mb.oldValues,
          returns: mb.returns,
          entropy: ev.entropy,
        },
        cfg.loss,
      );
      return {
        loss: out.loss,
        metrics: {
          pgLoss: out.pgLoss,
          vLoss: out.vLoss,
          entropy: out.entropyLoss,
          approxKl: out.approxKl,
          clipFrac: out.clipFrac,
        },
      };
    },
    step,
  );
  return Float32Array.of(m.pgLoss, m.vLoss, m.entropy, m.approxKl, m.clipFrac, gradNorm, applied ? 1 : 0);
}

/**
 * Trains an actor-critic with PPO on `env` (cleanrl ppo.py's loop). Randomness (initialisation, action sampling,
 * minibatch order) comes from the global seeded stream, so lab.seed(n) makes a run repeatable.
 */
export async function trainPpo(env: VecEnv, config: PpoSettings = {}, options: PpoOptions = {}): Promise<PpoResult> {
  const cfg = ppoConfig(config);
  const n = env.numEnvs;
  checkPpoConfig(cfg, n);
  const obsSize = env.observationSize;
  const agent = options.agent ?? new ActorCritic(obsSize, env.numActions, cfg.agent);
  if (agent.observationSize !== obsSize || agent.numActions !== env.numActions) {
    throw new Error(
      `rl.trainPpo: options.agent expects ${agent.observationSize} inputs and ${agent.numActions} actions; the environment has ${obsSize} and ${env.numActions}`,
    );
  }
  const rng: Rng = globalRng().fork();
  const optimizer = adam({ learningRate: cfg.learningRate, epsilon: cfg.adamEps });
  const batch = cfg.numSteps * n;
  const mbSize = batch / cfg.numMinibatches;
  const numIterations = Math.floor(cfg.totalTimesteps / batch);
  const r: Rollout = {
    obs: new Float32Array(batch * obsSize),
    actions: new Int32Array(batch),
    logProbs: new Float32Array(batch),
    rewards: new Float32Array(batch),
    dones: new Float32Array(batch),
    values: new Float32Array(batch),
  };
  const episodes: EpisodeRecord[] = [];
  const iterations: PpoIteration[] = [];
  const start = performance.now();
  const pause = yielder(cfg.yieldMs);
  let nextObs = env.reset();
  let nextDone = new Float32Array(n);
  let globalStep = 0;
  for (let iteration = 1; iteration <= numIterations; iteration++) {
    if (cancelled()) break; // interrupted: stop between iterations, free the optimizer, throw below
    const lr = cfg.annealLr ? (1 - (iteration - 1) / numIterations) * cfg.learningRate : cfg.learningRate;
    optimizer.learningRate = lr;
    for (let t = 0; t < cfg.numSteps; t++) {
      globalStep += n;
      r.obs.set(nextObs, t * n * obsSize);
      r.dones.set(nextDone, t * n);
      const act = agent.act(nextObs, rng);
      r.actions.set(act.actions, t * n);
      r.logProbs.set(act.logProbs, t * n);
      r.values.set(act.values, t * n);
      const step = env.step(act.actions);
      r.rewards.set(step.rewards, t * n);
      nextObs = step.observations;
      nextDone = Float32Array.from(step.terminated, (term, i) => (term || step.truncated[i] ? 1 : 0));
      for (const ep of step.episodes) episodes.push({ ...ep, globalStep });
    }
    const nextValue = agent.value(nextObs);
    const { advantages, returns } = gaeArrays(r.rewards, r.values, r.dones, nextValue, nextDone, {
      gamma: cfg.gamma,
      lambda: cfg.gaeLambda,
    });
    const valueTargets = cfg.valueTarget === "rewards" ? r.rewards : returns;
    const order = Array.from({ length: batch }, (_, i) => i);
    let last: Float32Array = new Float32Array(7);
    let clipSum = 0;
    let updates = 0;
    let skipped = 0;
    for (let epoch = 0; epoch < cfg.updateEpochs; epoch++) {
      rng.shuffle(order);
      for (let s = 0; s < batch; s += mbSize) {
        const mb = minibatch(r, advantages, valueTargets, order.slice(s, s + mbSize), obsSize, env.numActions);
        try {
          last = updateStep(agent, optimizer, mb, cfg);
        } catch (e) {
          if (!(e instanceof NonFiniteStepError)) throw e;
          optimizer.dispose();
          if (!options.agent) agent.dispose();
          throw new Error(
            `rl.trainPpo: the loss is ${e.loss} and the gradient norm ${e.gradNorm} in iteration ${iteration} (step ${globalStep}); no update was applied: set config.onNonFinite = "skip" to leave such updates out and count them`,
          );
        } finally {
          tf.dispose(Object.values(mb));
        }
        if (last[6] === 0) {
          skipped++;
          continue;
        }
        clipSum += last[4];
        updates++;
      }
      if (cfg.targetKl !== null && last[3] > cfg.targetKl) break;
    }
    const stats: PpoIteration = {
      iteration,
      globalStep,
      learningRate: lr,
      pgLoss: last[0],
      vLoss: last[1],
      entropy: last[2],
      approxKl: last[3],
      clipFrac: clipSum / updates,
      gradNorm: last[5],
      explainedVariance: explainedVariance(r.values, returns),
      skippedUpdates: skipped,
      seconds: (performance.now() - start) / 1000,
    };
    iterations.push(stats);
    options.onIteration?.(stats, episodes);
    await pause();
  }
  optimizer.dispose();
  if (cancelled() && !options.agent) agent.dispose(); // an interrupted run returns nothing: free the agent it made
  throwIfCancelled(`trainPpo, after ${iterations.length} of ${numIterations} iterations`);
  return { agent, episodes, iterations, config: cfg };
}
