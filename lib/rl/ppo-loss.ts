// PPO loss: clipped surrogate, clipped value loss, entropy bonus, approximate KL and clip fraction, as one pure
// function. Reference: cleanrl ppo.py (the loss block of the update loop); Schulman et al., "Proximal Policy
// Optimization Algorithms" (2017), eq. 7 and 9; KL estimator k3 from J. Schulman, "Approximating KL Divergence" (2020).
import * as tf from "@tensorflow/tfjs";
import { checkRange, checkShape, withDefaults } from "../check";

/** How the probability ratio π_θ(a|s) / π_old(a|s) is formed from log-probabilities. */
export type PpoRatio = "exp-diff" | "quotient";

/** PPO loss settings; the defaults are cleanrl's ppo.py arguments. */
export interface PpoLossConfig {
  /** Surrogate clipping range ε: the ratio is clipped to [1−ε, 1+ε] (also the value clipping range; a huge ε = no clipping). */
  clipCoef: number;
  /** Weight c_v of the value loss in the total loss. */
  vfCoef: number;
  /** Weight c_ent of the entropy bonus (subtracted from the loss). */
  entCoef: number;
  /** Clip the value prediction to V_old ± ε and take the larger squared error (cleanrl's clip_vloss). */
  clipVloss: boolean;
  /** Normalise the advantages of this minibatch to mean 0, std 1 (unbiased std, as torch's .std()). */
  normAdv: boolean;
  /** Added to the std in the advantage normalisation. */
  advEps: number;
  /**
   * "exp-diff": ρ = exp(logπ − logπ_old), the correct ratio; "quotient": ρ = logπ / logπ_old, the articles' sample
   * `new.log_prob / old.log_prob` (kept to show what it does; equals 1 at the start of an update like the real ratio).
   */
  ratio: PpoRatio;
}

export const DEFAULT_PPO_LOSS: Readonly<PpoLossConfig> = Object.freeze({
  clipCoef: 0.2,
  vfCoef: 0.5,
  entCoef: 0.01,
  clipVloss: true,
  normAdv: true,
  advEps: 1e-8,
  ratio: "exp-diff",
});

/** Per-sample inputs of the PPO loss, all [B]. */
export interface PpoLossInputs {
  /** log π_θ(a_t|s_t) under the policy being trained (carries the gradient). */
  newLogProb: tf.Tensor;
  /** log π_old(a_t|s_t) recorded during the rollout. */
  oldLogProb: tf.Tensor;
  /** Advantage estimates A_t (GAE), before any normalisation. */
  advantages: tf.Tensor;
  /** V_θ(s_t) from the value head being trained. */
  newValues: tf.Tensor;
  /** V_old(s_t) recorded during the rollout. */
  oldValues: tf.Tensor;
  /** Return targets R_t = A_t + V_old(s_t). */
  returns: tf.Tensor;
  /** Entropy of π_θ(·|s_t). */
  entropy: tf.Tensor;
}

/** The loss and its parts, all scalar tensors. */
export interface PpoLossOutput {
  /** pgLoss − entCoef·entropyLoss + vfCoef·vLoss: what to minimise. */
  loss: tf.Scalar;
  /** Clipped surrogate mean(max(−A·ρ, −A·clip(ρ, 1±ε))). */
  pgLoss: tf.Scalar;
  /** 0.5·mean of the (clipped, when clipVloss) squared value error. */
  vLoss: tf.Scalar;
  /** Mean entropy (cleanrl's entropy_loss; enters the loss with a minus sign). */
  entropyLoss: tf.Scalar;
  /** mean((ρ−1) − log ρ) with ρ = exp(logπ − logπ_old): the k3 estimate of KL(π_old‖π_θ), whatever `ratio` says. */
  approxKl: tf.Scalar;
  /** Fraction of samples whose surrogate ratio left [1−ε, 1+ε]. */
  clipFrac: tf.Scalar;
}

const INPUT_NAMES = ["newLogProb", "oldLogProb", "advantages", "newValues", "oldValues", "returns", "entropy"] as const;

/** Checks PPO loss settings; errors name the function and the field. */
export function checkPpoLossConfig(fn: string, cfg: PpoLossConfig): void {
  checkRange(fn, "config.clipCoef", cfg.clipCoef, 0, Number.MAX_VALUE);
  checkRange(fn, "config.vfCoef", cfg.vfCoef, 0, Number.MAX_VALUE);
  checkRange(fn, "config.entCoef", cfg.entCoef, -Number.MAX_VALUE, Number.MAX_VALUE);
  checkRange(fn, "config.advEps", cfg.advEps, 0, Number.MAX_VALUE);
  if (cfg.ratio !== "exp-diff" && cfg.ratio !== "quotient") {
    throw new Error(`${fn}: config.ratio must be "exp-diff" or "quotient", got ${JSON.stringify(cfg.ratio)}`);
  }
}

/** `a` normalised to mean 0 and unbiased std 1 (+eps): torch's (a − a.mean()) / (a.std() + eps). a: [B], B ≥ 2. */
export function normalizeAdvantages(a: tf.Tensor, eps = DEFAULT_PPO_LOSS.advEps): tf.Tensor {
  checkShape("normalizeAdvantages", "a", a.shape, ["B"]);
  const n = a.shape[0];
  if (n < 2) throw new Error(`normalizeAdvantages: a must have at least 2 elements (unbiased std), got ${n}`);
  return tf.tidy(() => {
    const centred = tf.sub(a, tf.mean(a)); // [B]
    const std = tf.sqrt(tf.div(tf.sum(tf.square(centred)), n - 1)); // []
    return tf.div(centred, tf.add(std, eps)); // [B]
  });
}

/**
 * 0.5 · mean of the squared value error; with `clip` = ε, the larger of (V − R)² and (V_old + clip(V − V_old, ±ε) − R)²
 * (cleanrl's clip_vloss). Any shape, all equal; with `mask` (1 = counts) the mean runs over the masked entries only.
 */
export function valueLoss(
  newValues: tf.Tensor,
  oldValues: tf.Tensor,
  returns: tf.Tensor,
  clip: number | null,
  mask?: tf.Tensor,
): tf.Scalar {
  return tf.tidy(() => {
    const unclipped = tf.square(tf.sub(newValues, returns)); // [...]
    const err =
      clip === null
        ? unclipped
        : tf.maximum(
            unclipped,
            tf.square(tf.sub(tf.add(oldValues, tf.clipByValue(tf.sub(newValues, oldValues), -clip, clip)), returns)),
          ); // [...]
    const mean = mask ? tf.div(tf.sum(tf.mul(err, mask)), tf.maximum(tf.sum(mask), 1)) : tf.mean(err);
    return tf.mul(0.5, mean) as tf.Scalar;
  });
}

/**
 * The PPO loss of one minibatch (cleanrl ppo.py): inputs [B] in, scalar tensors out. Gradients flow through
 * newLogProb, newValues and entropy; the metrics approxKl and clipFrac are for logging.
 */
export function ppo(inputs: PpoLossInputs, config: Partial<PpoLossConfig> = {}): PpoLossOutput {
  const cfg = withDefaults("losses.ppo(inputs, config)", DEFAULT_PPO_LOSS, config);
  checkPpoLossConfig("losses.ppo", cfg);
  const b = inputs.newLogProb?.shape?.[0];
  for (const name of INPUT_NAMES) {
    const t = inputs[name];
    if (!(t instanceof tf.Tensor))
      throw new Error(`losses.ppo: inputs.${name} must be a tf.Tensor of shape [B], got ${typeof t}`);
    checkShape("losses.ppo", `inputs.${name}`, t.shape, [{ B: b }]);
  }
  if (b === 0) throw new Error("losses.ppo: inputs must hold at least one sample (B ≥ 1), got B = 0");
  if (cfg.normAdv && b < 2) throw new Error(`losses.ppo: normAdv needs B ≥ 2 samples (unbiased std), got B = ${b}`);
  const { newLogProb, oldLogProb, newValues, oldValues, returns, entropy } = inputs;
  return tf.tidy(() => {
    const logRatio = tf.sub(newLogProb, oldLogProb); // [B]
    const trueRatio = tf.exp(logRatio); // [B]
    const ratio = cfg.ratio === "exp-diff" ? trueRatio : tf.div(newLogProb, oldLogProb); // [B]
    const adv = cfg.normAdv ? normalizeAdvantages(inputs.advantages, cfg.advEps) : inputs.advantages; // [B]
    const eps = cfg.clipCoef;
    const pg1 = tf.mul(tf.neg(adv), ratio); // [B]
    const pg2 = tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - eps, 1 + eps)); // [B]
    const pgLoss = tf.mean(tf.maximum(pg1, pg2)) as tf.Scalar;
    const vLoss = valueLoss(newValues, oldValues, returns, cfg.clipVloss ? eps : null);
    const entropyLoss = tf.mean(entropy) as tf.Scalar;
    const loss = tf.add(tf.sub(pgLoss, tf.mul(cfg.entCoef, entropyLoss)), tf.mul(cfg.vfCoef, vLoss)) as tf.Scalar;
    const approxKl = tf.mean(tf.sub(tf.sub(trueRatio, 1), logRatio)) as tf.Scalar;
    const clipFrac = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), eps), "float32")) as tf.Scalar;
    return { loss, pgLoss, vLoss, entropyLoss, approxKl, clipFrac };
  });
}
