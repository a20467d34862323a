// RL fine-tuning of a language model on a verifiable task, two ways that differ only in the advantage estimate:
// GRPO (a group of completions per prompt, A = group-normalised outcome reward, no critic) and PPO with a value head
// (one completion per prompt, per-token GAE from a learned value, whitened). Both use the per-token clipped surrogate
// plus β·k3 KL to a frozen copy of the starting model. References: DeepSeekMath §4.1 (GRPO, Algorithm 1 with μ
// updates per batch), TRL GRPOTrainer / PPOTrainer (value head, γ = 1, λ = 0.95, whitened advantages, vf_coef 0.1).
import * as tf from "@tensorflow/tfjs";
import { throwIfCancelled } from "../cancel";
import { checkPositiveInt, checkRange, withDefaults } from "../check";
import {
  DEFAULT_GRPO_ADVANTAGE,
  DEFAULT_GRPO_LOSS,
  GrpoAdvantageConfig,
  GrpoLossConfig,
  checkGrpoLossConfig,
  grpo,
  grpoAdvantages,
} from "./grpo-loss";
import { valueLoss } from "./ppo-loss";
import { TransformerLM } from "../model/transformer";
import { Linear, Module } from "../nn";
import { Rng, rng as globalRng } from "../random";
import { adam } from "../train/optimizer";
import { DEFAULT_STEP, optimizerStep } from "../train/step";
import { yielder } from "../train/yielder";
import { ArithmeticTask, TaskPrompt } from "./arithmetic-task";
import { gaeArrays } from "./gae";
import { sampleCompletions, tokenLogProbs } from "./lm-sampling";
import type { BatchReward } from "./three-level-reward";

/** A custom reward's values, checked: one finite number per completion. */
function checkedRewards(rewards: number[], n: number): number[] {
  if (!Array.isArray(rewards) || rewards.length !== n || !rewards.every(Number.isFinite))
    throw new Error(`rl.trainLmRl: options.reward must return ${n} finite numbers (one per completion)`);
  return rewards;
}

/** Which advantage estimate drives the update. */
export type LmRlMethod = "grpo" | "ppo";

/** Settings of LM RL fine-tuning. */
export interface LmRlConfig {
  /** "grpo": group-normalised rewards; "ppo": GAE from a value head. */
  method: LmRlMethod;
  /** Policy updates (each on a fresh batch of samples). */
  steps: number;
  /** Distinct prompts per step for GRPO (each sampled groupSize times); PPO samples promptsPerStep × groupSize prompts once. */
  promptsPerStep: number;
  /** Completions per prompt G (GRPO); fixes the batch size for both methods. */
  groupSize: number;
  /** Sampling temperature of the rollouts (1 = the policy itself, as the ratio assumes). */
  temperature: number;
  /** Adam step size (constant). */
  learningRate: number;
  /** Gradient updates per batch of samples (DeepSeekMath's μ). */
  updateEpochs: number;
  /** Clip the global gradient norm to this. */
  maxGradNorm: number;
  /** Per-token surrogate, KL weight β and aggregation. */
  loss: GrpoLossConfig;
  /** Group normalisation (GRPO). */
  advantage: Omit<GrpoAdvantageConfig, "groupSize">;
  /** Weight of the value loss (PPO). */
  vfCoef: number;
  /** Value clipping range around the rollout's values (PPO; null = unclipped). */
  valueClip: number | null;
  /** Discount over tokens (PPO). */
  gamma: number;
  /** GAE λ over tokens (PPO). */
  gaeLambda: number;
  /** Added to the variance when whitening PPO's advantages. */
  whitenEps: number;
  /** Greedy accuracy on the evaluation prompts every this many steps (and before the first and after the last). */
  evalEvery: number;
  /** Yield to the event loop at least this often, in ms (lets notebook progress displays update). */
  yieldMs: number;
}

export const DEFAULT_LM_RL: Readonly<LmRlConfig> = Object.freeze({
  method: "grpo",
  steps: 100,
  promptsPerStep: 16,
  groupSize: 8,
  temperature: 1,
  learningRate: 1e-4,
  updateEpochs: 1,
  maxGradNorm: 1,
  loss: DEFAULT_GRPO_LOSS,
  advantage: Object.freeze({ eps: DEFAULT_GRPO_ADVANTAGE.eps, scale: DEFAULT_GRPO_ADVANTAGE.scale }),
  vfCoef: 0.1,
  valueClip: 0.2,
  gamma: 1,
  gaeLambda: 0.95,
  whitenEps: 1e-8,
  evalEvery: 20,
  yieldMs: 200,
});

/** LM RL settings as callers give them: any field, `loss` and `advantage` field by field. */
export type LmRlSettings = Partial<Omit<LmRlConfig, "loss" | "advantage">> & {
  loss?: Partial<GrpoLossConfig>;
  advantage?: Partial<LmRlConfig["advantage"]>;
};

/** Merges partial settings over DEFAULT_LM_RL and checks them. */
export function lmRlConfig(config: LmRlSettings = {}): LmRlConfig {
  const fn = "rl.trainLmRl";
  const cfg: LmRlConfig = {
    ...withDefaults(fn, DEFAULT_LM_RL, config),
    loss: withDefaults(fn, DEFAULT_LM_RL.loss, config.loss, [], "config.loss"),
    advantage: withDefaults(fn, DEFAULT_LM_RL.advantage, config.advantage, [], "config.advantage"),
  };
  if (cfg.method !== "grpo" && cfg.method !== "ppo")
    throw new Error(`${fn}: config.method must be "grpo" or "ppo", got ${JSON.stringify(cfg.method)}`);
  for (const key of ["steps", "promptsPerStep", "groupSize", "updateEpochs", "evalEvery"] as const)
    checkPositiveInt(fn, `config.${key}`, cfg[key]);
  if (cfg.method === "grpo" && cfg.groupSize < 2)
    throw new Error(`${fn}: config.groupSize must be ≥ 2 for GRPO, got ${cfg.groupSize}`);
  checkRange(fn, "config.temperature", cfg.temperature, Number.MIN_VALUE, Number.MAX_VALUE);
  for (const key of ["learningRate", "maxGradNorm", "vfCoef", "whitenEps", "yieldMs"] as const)
    checkRange(fn, `config.${key}`, cfg[key], 0, Number.MAX_VALUE);
  if (cfg.valueClip !== null) checkRange(fn, "config.valueClip", cfg.valueClip, 0, Number.MAX_VALUE);
  checkRange(fn, "config.gamma", cfg.gamma, 0, 1);
  checkRange(fn, "config.gaeLambda", cfg.gaeLambda, 0, 1);
  checkRange(fn, "config.advantage.eps", cfg.advantage.eps, 0, Number.MAX_VALUE);
  checkGrpoLossConfig(fn, cfg.loss);
  return cfg;
}

/** A value head on the policy's logits: V = w·logits + b (with a tied head, a linear function of the last hidden state). */
export class LogitValueHead extends Module {
  readonly proj: Linear;

  constructor(vocabSize: number) {
    super();
    this.proj = this.child("proj", new Linear(vocabSize, 1, { bias: true, initStd: 0 }));
  }

  /** logits [B, M, V] → values [B, M]. */
  apply(logits: tf.Tensor3D): tf.Tensor2D {
    const [b, m] = logits.shape;
    return tf.tidy(() => tf.reshape(this.proj.apply(logits), [b, m]) as tf.Tensor2D);
  }
}

/** Statistics of one RL step. */
export interface LmRlStep {
  step: number;
  /** Mean reward of the step's samples (the training accuracy at temperature `temperature`). */
  reward: number;
  /** Mean completion length in tokens (end token included). */
  length: number;
  /** k3 KL to the reference, aggregated like the loss (last update of the step). */
  kl: number;
  pgLoss: number;
  /** Value loss (PPO; 0 for GRPO). */
  vLoss: number;
  /** Fraction of tokens whose ratio was clipped (last update). */
  clipFrac: number;
  /** Fraction of GRPO groups whose rewards were all equal (no learning signal); NaN for PPO. */
  flatGroups: number;
  /** Seconds since the start. */
  seconds: number;
}

/** Greedy accuracy on the evaluation prompts after `step` steps. */
export interface LmRlEval {
  step: number;
  accuracy: number;
  /** Mean greedy completion length in tokens. */
  length: number;
}

/** What a run produced. */
export interface LmRlResult {
  steps: LmRlStep[];
  evals: LmRlEval[];
  config: LmRlConfig;
}

/** Hooks and evaluation set of a run. */
export interface LmRlOptions {
  /** Prompts for greedy accuracy (default: none; evals is then empty). */
  evalPrompts?: TaskPrompt[];
  onStep?: (stats: LmRlStep) => void;
  /**
   * The training reward of each sampled completion; default: the task's exact-match reward (the verifiable reward).
   * Greedy evaluation always uses the exact-match reward.
   */
  reward?: BatchReward;
  onEval?: (stats: LmRlEval) => void;
}

/** Greedy (temperature 0) exact-match accuracy and mean completion length of `model` on `prompts`. */
export function greedyAccuracy(
  model: TransformerLM,
  task: ArithmeticTask,
  prompts: TaskPrompt[],
): { accuracy: number; length: number } {
  const out = sampleCompletions(
    model,
    prompts.map((p) => p.ids),
    task.answerLength,
    task.endId,
    { temperature: 0 },
    new Rng(0),
  );
  let correct = 0;
  let tokens = 0;
  out.completions.forEach((ids, i) => {
    correct += task.reward(prompts[i], task.tokenizer.decode(ids));
    tokens += ids.length;
  });
  return { accuracy: correct / prompts.length, length: tokens / prompts.length };
}

/** A frozen copy of `model` (the KL reference). */
function frozenCopy(model: TransformerLM): TransformerLM {
  const ref = new TransformerLM(model.config);
  ref.loadStateDict(model.stateDict());
  return ref;
}

/** Masked whitening (TRL's masked_whiten): (x − mean) / sqrt(var + eps) over entries where mask = 1; 0 elsewhere. */
function maskedWhiten(x: Float32Array, mask: Float32Array, eps: number): Float32Array {
  let n = 0;
  let mean = 0;
  for (let i = 0; i < x.length; i++) {
    if (!mask[i]) continue;
    n++;
    mean += x[i];
  }
  mean /= Math.max(n, 1);
  let variance = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) variance += (x[i] - mean) ** 2;
  variance /= Math.max(n, 1);
  return x.map((v, i) => (mask[i] ? (v - mean) / Math.sqrt(variance + eps) : 0));
}

/** PPO's per-token advantages and returns [B, M]: reward at each row's last real token, GAE over the tokens. */
function tokenGae(rewards: number[], values: Float32Array, mask: Float32Array, m: number, cfg: LmRlConfig) {
  const b = rewards.length;
  const r = new Float32Array(m * b); // [M, B]
  const v = new Float32Array(m * b); // [M, B]
  for (let i = 0; i < b; i++) {
    let last = 0;
    for (let t = 0; t < m; t++) {
      if (!mask[i * m + t]) continue;
      v[t * b + i] = values[i * m + t];
      last = t;
    }
    r[last * b + i] = rewards[i];
  }
  const g = gaeArrays(r, v, new Float32Array(m * b), new Float32Array(b), new Float32Array(b).fill(1), {
    gamma: cfg.gamma,
    lambda: cfg.gaeLambda,
  });
  const toRows = (a: Float32Array) =>
    Float32Array.from({ length: b * m }, (_, k) => a[(k % m) * b + Math.floor(k / m)]); // [B, M]
  const returns = toRows(g.returns);
  return { advantages: maskedWhiten(toRows(g.advantages), mask, cfg.whitenEps), returns };
}

/**
 * Fine-tunes `policy` on `task` with GRPO or PPO (config.method); a frozen copy of the starting policy is the KL
 * reference. Samples and minibatch order come from the global seeded stream (lab.seed makes a run repeatable).
 */
export async function trainLmRl(
  policy: TransformerLM,
  task: ArithmeticTask,
  config: LmRlSettings = {},
  options: LmRlOptions = {},
): Promise<LmRlResult> {
  const cfg = lmRlConfig(config);
  if (policy.config.vocabSize !== task.tokenizer.vocabSize) {
    throw new Error(
      `rl.trainLmRl: the policy's vocabSize ${policy.config.vocabSize} differs from the task's ${task.tokenizer.vocabSize}`,
    );
  }
  const rng = globalRng().fork();
  const reference = frozenCopy(policy);
  const valueHead = cfg.method === "ppo" ? new LogitValueHead(policy.config.vocabSize) : null;
  const vars = [...policy.trainableVariables(), ...(valueHead?.trainableVariables() ?? [])];
  const optimizer = adam({ learningRate: cfg.learningRate });
  const p = task.promptLength;
  const m = task.answerLength;
  const steps: LmRlStep[] = [];
  const evals: LmRlEval[] = [];
  const start = performance.now();
  const pause = yielder(cfg.yieldMs);
  const evaluate = (step: number) => {
    if (!options.evalPrompts?.length) return;
    const e = { step, ...greedyAccuracy(policy, task, options.evalPrompts) };
    evals.push(e);
    options.onEval?.(e);
  };
  try {
    evaluate(0);
    for (let step = 1; step <= cfg.steps; step++) {
      throwIfCancelled(`trainLmRl, before step ${step} of ${cfg.steps}`);
      throwIfCancelled(`trainLmRl, before step ${step} of ${cfg.steps}`);
      const distinct = task.prompts(
        cfg.method === "grpo" ? cfg.promptsPerStep : cfg.promptsPerStep * cfg.groupSize,
        rng,
      );
      const prompts =
        cfg.method === "grpo" ? distinct.flatMap((q) => Array.from({ length: cfg.groupSize }, () => q)) : distinct;
      const n = prompts.length;
      const sampled = sampleCompletions(
        policy,
        prompts.map((q) => q.ids),
        m,
        task.endId,
        { temperature: cfg.temperature },
        rng,
      );
      const rewards = options.reward
        ? checkedRewards(options.reward({ prompts, ...sampled }), n)
        : sampled.completions.map((ids, i) => task.reward(prompts[i], task.tokenizer.decode(ids)));
      const tokens = tf.tensor2d(sampled.tokens, [n, p + m], "int32"); // [N, P + M]
      const mask = tf.tensor2d(sampled.mask, [n, m]); // [N, M]
      const [oldLogProb, refLogProb, oldValues] = tf.tidy(() => {
        const old = tokenLogProbs(policy, tokens, p);
        const values = valueHead ? tf.mul(valueHead.apply(old.logits), mask) : tf.zerosLike(old.logProbs); // [N, M]
        return [old.logProbs, tokenLogProbs(reference, tokens, p).logProbs, values]; // [N, M] each
      });
      let advantages: tf.Tensor;
      let returns: tf.Tensor | null = null;
      if (valueHead) {
        const g = tokenGae(rewards, oldValues.dataSync() as Float32Array, sampled.mask, m, cfg);
        advantages = tf.tensor2d(g.advantages, [n, m]); // [N, M]
        returns = tf.tensor2d(g.returns, [n, m]); // [N, M]
      } else {
        advantages = tf.tidy(() =>
          grpoAdvantages(tf.tensor1d(rewards), { ...cfg.advantage, groupSize: cfg.groupSize }),
        ); // [N]
      }
      let metrics: Record<string, number> = {};
      for (let epoch = 0; epoch < cfg.updateEpochs; epoch++) {
        metrics = optimizerStep(
          optimizer,
          vars,
          () => {
            const cur = tokenLogProbs(policy, tokens, p);
            const out = grpo({ newLogProb: cur.logProbs, oldLogProb, refLogProb, advantages, mask }, cfg.loss);
            const vLoss = valueHead
              ? valueLoss(valueHead.apply(cur.logits), oldValues, returns!, cfg.valueClip, mask)
              : tf.scalar(0);
            return {
              loss: tf.add(out.loss, tf.mul(cfg.vfCoef, vLoss)) as tf.Scalar,
              metrics: { pgLoss: out.pgLoss, vLoss: vLoss as tf.Scalar, kl: out.kl, clipFrac: out.clipFrac },
            };
          },
          { ...DEFAULT_STEP, clipNorm: cfg.maxGradNorm },
        ).metrics;
      }
      tf.dispose([tokens, mask, advantages, oldLogProb, refLogProb, oldValues, ...(returns ? [returns] : [])]);
      let flat = 0;
      for (let g = 0; g < n; g += cfg.groupSize)
        flat += rewards.slice(g, g + cfg.groupSize).every((r) => r === rewards[g]) ? 1 : 0;
      const stats: LmRlStep = {
        step,
        reward: rewards.reduce((s, r) => s + r, 0) / n,
        length: sampled.completions.reduce((s, c) => s + c.length, 0) / n,
        pgLoss: metrics.pgLoss,
        vLoss: metrics.vLoss,
        kl: metrics.kl,
        clipFrac: metrics.clipFrac,
        flatGroups: cfg.method === "grpo" ? flat / (n / cfg.groupSize) : NaN,
        seconds: (performance.now() - start) / 1000,
      };
      steps.push(stats);
      options.onStep?.(stats);
      if (step % cfg.evalEvery === 0 || step === cfg.steps) evaluate(step);
      await pause();
    }
  } finally {
    optimizer.dispose();
    reference.dispose();
    valueHead?.dispose();
  }
  return { steps, evals, config: cfg };
}
