// The articles' three-level reward model as a composite reward for LM RL on the arithmetic task: a perplexity score
// (基础奖励: 1/PPL of the answer under a frozen judge LM), a domain-term score (领域奖励: the share of the answer's tokens
// that are the domain's terms) and a preference score (人类反馈奖励: a simulated annotator). Reference:
// "读懂!DeepSeek与其他大模型的技术差异与应用场景解析" §二 (三层奖励模型); the rule-based reward it is compared with: DeepSeek-R1 §2.2.2.
import * as tf from "@tensorflow/tfjs";
import { checkRange, withDefaults } from "../check";
import { TransformerLM } from "../model/transformer";
import { Rng } from "../random";
import { ArithmeticTask, TaskPrompt } from "./arithmetic-task";
import { tokenLogProbs } from "./lm-sampling";

/** One batch of sampled completions, as a reward function sees it. */
export interface RewardBatch {
  prompts: readonly TaskPrompt[];
  /** Each row's completion ids (up to and including its end token). */
  completions: readonly number[][];
  /** Prompt + completion ids, row-major [N, P + M]. */
  tokens: Int32Array;
  /** 1 for completion tokens up to and including the first end token [N, M]. */
  mask: Float32Array;
}

/** A reward per completion of the batch. */
export type BatchReward = (batch: RewardBatch) => number[];

/** Settings of the three-level reward. */
export interface ThreeLevelRewardConfig {
  /** Weights of the [perplexity, domain-term, preference] scores (the article gives none: equal). */
  weights: readonly [number, number, number];
  /** Probability that the simulated annotator's preference disagrees with the exact-answer check. Default 0.2. */
  preferenceNoise: number;
}

export const DEFAULT_THREE_LEVEL_REWARD: Readonly<ThreeLevelRewardConfig> = Object.freeze({
  weights: Object.freeze([1, 1, 1]) as readonly [number, number, number],
  preferenceNoise: 0.2,
});

/** The three scores of each completion, each in [0, 1]. */
export interface ThreeLevelScores {
  /** exp(mean log p) of the completion's tokens under the judge: 1/PPL (fluency as the judge LM sees it). */
  perplexity: number[];
  /** Share of the completion's tokens that are domain terms: digits, the minus sign and the end token. */
  domainTerms: number[];
  /** The simulated annotator: 1 for the exact answer, else 0, flipped with probability preferenceNoise. */
  preference: number[];
}

/**
 * The articles' three-level reward on `task`: `judge` (a frozen LM, e.g. the SFT model) scores perplexity, the
 * task's numerals are the domain terms, and a seeded simulated annotator (no crowd data here) gives preferences.
 * Returns the reward function (the weighted mean of the three scores) and the scores of the last batch it saw.
 */
export function threeLevelReward(
  task: ArithmeticTask,
  judge: TransformerLM,
  rng: Rng,
  config: Partial<ThreeLevelRewardConfig> = {},
): { reward: BatchReward; last: () => ThreeLevelScores | null } {
  const fn = "rl.threeLevelReward(task, judge, rng, config)";
  const cfg = withDefaults(fn, DEFAULT_THREE_LEVEL_REWARD, config);
  checkRange(fn, "config.preferenceNoise", cfg.preferenceNoise, 0, 1);
  if (
    cfg.weights.length !== 3 ||
    !cfg.weights.every((w) => Number.isFinite(w) && w >= 0) ||
    !cfg.weights.some((w) => w > 0)
  )
    throw new Error(`${fn}: config.weights must be 3 finite numbers ≥ 0, not all 0, got [${cfg.weights.join(", ")}]`);
  if (judge.config.vocabSize !== task.tokenizer.vocabSize)
    throw new Error(
      `${fn}: the judge's vocabSize ${judge.config.vocabSize} differs from the task's ${task.tokenizer.vocabSize}`,
    );
  const terms = new Set([...task.tokenizer.encode("0123456789-"), task.endId]);
  const total = cfg.weights[0] + cfg.weights[1] + cfg.weights[2];
  let last: ThreeLevelScores | null = null;
  const reward: BatchReward = (batch) => {
    const n = batch.prompts.length;
    const m = batch.mask.length / n;
    const p = batch.tokens.length / n - m;
    const meanLogP = tf.tidy(() => {
      const tokens = tf.tensor2d(batch.tokens, [n, p + m], "int32"); // [N, P + M]
      const mask = tf.tensor2d(batch.mask, [n, m]); // [N, M]
      const lp = tokenLogProbs(judge, tokens, p).logProbs; // [N, M]
      return tf.div(tf.sum(tf.mul(lp, mask), 1), tf.maximum(tf.sum(mask, 1), 1)).dataSync(); // [N]
    });
    const scores: ThreeLevelScores = {
      perplexity: Array.from(meanLogP, Math.exp),
      domainTerms: batch.completions.map((c) => (c.length ? c.filter((id) => terms.has(id)).length / c.length : 0)),
      preference: batch.prompts.map((q, i) => {
        const exact = task.reward(q, task.tokenizer.decode(batch.completions[i]));
        return rng.uniform() < cfg.preferenceNoise ? 1 - exact : exact;
      }),
    };
    last = scores;
    return scores.perplexity.map(
      (s, i) =>
        (cfg.weights[0] * s + cfg.weights[1] * scores.domainTerms[i] + cfg.weights[2] * scores.preference[i]) / total,
    );
  };
  return { reward, last: () => last };
}
