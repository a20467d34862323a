// GRPO loss: group-normalised advantages, per-token clipped surrogate, k3 KL to a frozen reference, and the
// aggregation variants over tokens. Reference: Shao et al., "DeepSeekMath" (2024), §4.1 eq. 3–4 (outcome
// supervision); TRL GRPOTrainer (`scale_rewards`, `loss_type` "grpo" / "bnpo" / "dr_grpo", `epsilon_high`).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkRange, checkShape, withDefaults } from "../check";

/** Settings of group-normalised advantages. */
export interface GrpoAdvantageConfig {
  /** Completions sampled per prompt (G); rewards come in consecutive groups of this size. */
  groupSize: number;
  /** Added to the group std: A = (r − mean) / (std + eps). */
  eps: number;
  /** Divide by the group std (DeepSeekMath, TRL scale_rewards); false = only subtract the mean (Dr. GRPO). */
  scale: boolean;
}

export const DEFAULT_GRPO_ADVANTAGE: Readonly<GrpoAdvantageConfig> = Object.freeze({
  groupSize: 64,
  eps: 1e-4,
  scale: true,
});

/**
 * Group-relative advantages of outcome rewards [N] (N = groups × groupSize, each group consecutive):
 * A = (r − mean_group) / (std_group + eps), std unbiased as torch's .std(). A group of equal rewards gets A = 0.
 */
export function grpoAdvantages(rewards: tf.Tensor, config: Partial<GrpoAdvantageConfig> = {}): tf.Tensor {
  const fn = "losses.grpoAdvantages";
  const cfg = withDefaults("losses.grpoAdvantages(rewards, config)", DEFAULT_GRPO_ADVANTAGE, config);
  checkPositiveInt(fn, "config.groupSize", cfg.groupSize);
  if (cfg.groupSize < 2)
    throw new Error(`${fn}: config.groupSize must be ≥ 2 (a group std needs two samples), got ${cfg.groupSize}`);
  checkRange(fn, "config.eps", cfg.eps, 0, Number.MAX_VALUE);
  if (!(rewards instanceof tf.Tensor))
    throw new Error(`${fn}: rewards must be a tf.Tensor of shape [N], got ${typeof rewards}`);
  checkShape(fn, "rewards", rewards.shape, ["N"]);
  const n = rewards.shape[0];
  if (n === 0) throw new Error(`${fn}: rewards is empty; expected at least one group of ${cfg.groupSize}`);
  if (n % cfg.groupSize !== 0) {
    throw new Error(`${fn}: rewards has ${n} entries, not a multiple of config.groupSize = ${cfg.groupSize}`);
  }
  const values = rewards.dataSync();
  const bad = values.findIndex((r) => !Number.isFinite(r));
  if (bad >= 0) throw new Error(`${fn}: rewards[${bad}] is ${values[bad]}; expected finite rewards`);
  return tf.tidy(() => {
    const grouped = tf.reshape(rewards, [n / cfg.groupSize, cfg.groupSize]); // [groups, G]
    const centred = tf.sub(grouped, tf.mean(grouped, 1, true)); // [groups, G]
    if (!cfg.scale) return tf.reshape(centred, [n]); // [N]
    const std = tf.sqrt(tf.div(tf.sum(tf.square(centred), 1, true), cfg.groupSize - 1)); // [groups, 1]
    return tf.reshape(tf.div(centred, tf.add(std, cfg.eps)), [n]); // [N]
  });
}

/**
 * Per-token k3 estimate of KL(π_θ‖π_ref) from log-probabilities of the sampled tokens:
 * exp(ref − logp) − (ref − logp) − 1 (≥ 0, and 0 where the two agree). Shapes equal, any rank.
 */
export function k3Kl(logProb: tf.Tensor, refLogProb: tf.Tensor): tf.Tensor {
  if (!tf.util.arraysEqual(logProb.shape, refLogProb.shape)) {
    throw new Error(`losses.k3Kl: refLogProb must have logProb's shape [${logProb.shape}], got [${refLogProb.shape}]`);
  }
  return tf.tidy(() => {
    const d = tf.sub(refLogProb, logProb); // [...]
    return tf.sub(tf.sub(tf.exp(d), d), 1); // [...]
  });
}

/**
 * How per-token losses [B, L] become one number (TRL's loss_type):
 * "sequence": mean over each completion's tokens, then over completions (DeepSeekMath, TRL "grpo");
 * "token": sum over all tokens / number of tokens (DAPO, TRL "bnpo");
 * "constant": sum over all tokens / (B · L), L the padded length (Dr. GRPO, TRL "dr_grpo").
 */
export type GrpoAggregation = "sequence" | "token" | "constant";

/** GRPO loss settings (DeepSeekMath's β, TRL's ε). */
export interface GrpoLossConfig {
  /** Lower clipping range ε: the ratio is clipped below at 1 − ε. */
  clipCoef: number;
  /** Upper clipping range; null = clipCoef (DAPO's clip-higher uses a larger value). */
  clipCoefHigh: number | null;
  /** Weight β of the k3 KL to the reference policy (0 = no reference term). */
  beta: number;
  /** How token losses are averaged. */
  aggregation: GrpoAggregation;
}

export const DEFAULT_GRPO_LOSS: Readonly<GrpoLossConfig> = Object.freeze({
  clipCoef: 0.2,
  clipCoefHigh: null,
  beta: 0.04,
  aggregation: "sequence",
});

/** Inputs of the GRPO loss. */
export interface GrpoLossInputs {
  /** log π_θ of each completion token [B, L] (carries the gradient). */
  newLogProb: tf.Tensor;
  /** log π_old of the same tokens, recorded when sampling [B, L]. */
  oldLogProb: tf.Tensor;
  /** log π_ref of the same tokens under the frozen reference [B, L]; may be null when beta = 0. */
  refLogProb: tf.Tensor | null;
  /** One advantage per completion [B] (grpoAdvantages), or per token [B, L] (e.g. GAE with a value head). */
  advantages: tf.Tensor;
  /** 1 for completion tokens, 0 for padding [B, L]. */
  mask: tf.Tensor;
}

/** The loss and its parts, scalar tensors, each aggregated as config.aggregation says. */
export interface GrpoLossOutput {
  /** pgLoss + beta·kl: what to minimise. */
  loss: tf.Scalar;
  /** Clipped surrogate −min(ρA, clip(ρ, 1−ε, 1+ε_high)A). */
  pgLoss: tf.Scalar;
  /** k3 KL to the reference (0 without one). */
  kl: tf.Scalar;
  /** Fraction of completion tokens whose ratio was clipped (token mean). */
  clipFrac: tf.Scalar;
}

/** Checks GRPO loss settings; errors name the function and the field. */
export function checkGrpoLossConfig(fn: string, cfg: GrpoLossConfig): void {
  checkRange(fn, "config.clipCoef", cfg.clipCoef, 0, 1);
  if (cfg.clipCoefHigh !== null) checkRange(fn, "config.clipCoefHigh", cfg.clipCoefHigh, 0, Number.MAX_VALUE);
  checkRange(fn, "config.beta", cfg.beta, 0, Number.MAX_VALUE);
  if (!["sequence", "token", "constant"].includes(cfg.aggregation)) {
    throw new Error(
      `losses.grpo: config.aggregation must be "sequence", "token" or "constant", got ${JSON.stringify(cfg.aggregation)}`,
    );
  }
}

/** Aggregates per-token values [B, L] under `mask` [B, L] as `how` says (empty completions count as one token). */
export function aggregateTokens(values: tf.Tensor, mask: tf.Tensor, how: GrpoAggregation): tf.Scalar {
  return tf.tidy(() => {
    const masked = tf.mul(values, mask); // [B, L]
    if (how === "sequence") return tf.mean(tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1))) as tf.Scalar;
    if (how === "token") return tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    return tf.div(tf.sum(masked), values.size) as tf.Scalar;
  });
}

/** The GRPO loss (DeepSeekMath eq. 3 with TRL's aggregation variants): [B, L] inputs in, scalar tensors out. */
export function grpo(inputs: GrpoLossInputs, config: Partial<GrpoLossConfig> = {}): GrpoLossOutput {
  const fn = "losses.grpo";
  const cfg = withDefaults("losses.grpo(inputs, config)", DEFAULT_GRPO_LOSS, config);
  checkGrpoLossConfig(fn, cfg);
  const { newLogProb, oldLogProb, refLogProb, advantages, mask } = inputs;
  checkShape(fn, "inputs.newLogProb", newLogProb.shape, ["B", "L"]);
  const [b, l] = newLogProb.shape;
  if (b === 0 || l === 0)
    throw new Error(`${fn}: inputs.newLogProb is empty [${b}, ${l}]; expected at least one token`);
  checkShape(fn, "inputs.oldLogProb", oldLogProb.shape, [{ B: b }, { L: l }]);
  checkShape(fn, "inputs.mask", mask.shape, [{ B: b }, { L: l }]);
  if (advantages.rank === 1) checkShape(fn, "inputs.advantages", advantages.shape, [{ B: b }]);
  else checkShape(fn, "inputs.advantages", advantages.shape, [{ B: b }, { L: l }]);
  if (refLogProb) checkShape(fn, "inputs.refLogProb", refLogProb.shape, [{ B: b }, { L: l }]);
  else if (cfg.beta > 0)
    throw new Error(
      `${fn}: inputs.refLogProb is null but config.beta = ${cfg.beta} > 0; pass reference log-probs or set beta 0`,
    );
  return tf.tidy(() => {
    const adv = advantages.rank === 1 ? tf.expandDims(advantages, 1) : advantages; // [B, 1] or [B, L]
    const ratio = tf.exp(tf.sub(newLogProb, oldLogProb)); // [B, L]
    const low = 1 - cfg.clipCoef;
    const high = 1 + (cfg.clipCoefHigh ?? cfg.clipCoef);
    const clipped = tf.clipByValue(ratio, low, high); // [B, L]
    const perTokenPg = tf.neg(tf.minimum(tf.mul(ratio, adv), tf.mul(clipped, adv))); // [B, L]
    const pgLoss = aggregateTokens(perTokenPg, mask, cfg.aggregation);
    const kl = refLogProb ? aggregateTokens(k3Kl(newLogProb, refLogProb), mask, cfg.aggregation) : tf.scalar(0);
    const loss = tf.add(pgLoss, tf.mul(cfg.beta, kl)) as tf.Scalar;
    const wasClipped = tf.cast(tf.logicalOr(tf.less(ratio, low), tf.greater(ratio, high)), "float32"); // [B, L]
    const clipFrac = aggregateTokens(wasClipped, mask, "token");
    return { loss, pgLoss, kl, clipFrac };
  });
}
