// Routers as pure functions on tensors: the token-choice gate (Switch / GShard / Mixtral / DeepSeek-V2/V3) and
// expert-choice routing. Reference: DeepSeek-V3 inference/model.py `Gate.forward`; Zhou et al. 2022 "Mixture-of-Experts
// with Expert Choice Routing" (each expert takes its top-capacity tokens by softmax score).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkShape, withDefaults } from "../check";
import { topk } from "../ops";
import { detached } from "./detach";
import { gatherRows } from "./rows";
import { DEFAULT_GATE, checkGateConfig, renormalizes, type GateConfig } from "./config";

/** What the token-choice gate returns. Gradients reach x and weight through `weights`, `scores` and `logits`. */
export interface GateOutput {
  /** Combine weights of the selected experts, [T, k] (from the unbiased scores). */
  weights: tf.Tensor2D;
  /** Selected experts, [T, k] int32, in descending order of (biased, group-masked) score. */
  indices: tf.Tensor2D;
  /** Affinities before bias and masking (softmax or sigmoid of the logits), [T, E]. */
  scores: tf.Tensor2D;
  /** Router logits x·Wᵀ, [T, E]. */
  logits: tf.Tensor2D;
}

function checkRouterInputs(fn: string, x: tf.Tensor, weight: tf.Tensor): [number, number] {
  if (x.rank !== 2) throw new Error(`${fn}: x must have shape [T, d], got [${x.shape.join(", ")}]`);
  const [T, d] = x.shape;
  checkPositiveInt(fn, "x.shape[0] (tokens T)", T);
  checkShape(fn, "weight", weight.shape, ["E", { d }]);
  checkPositiveInt(fn, "weight.shape[0] (experts E)", weight.shape[0]);
  return [T, weight.shape[0]];
}

/** For each row of `indices` [T, k], the row's `values` [T, n] entries at those positions, [T, k] (differentiable in values). */
export function takeAlongRows(values: tf.Tensor2D, indices: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [T, n] = values.shape;
    const k = indices.shape[1];
    const rowStart = tf.range(0, T * n, n, "int32").reshape([T, 1]); // [T, 1]
    const flat = tf.add(indices, rowStart).reshape([T * k]); // [T·k] positions in values.flat
    return gatherRows(values.reshape([T * n]), flat).reshape([T, k]) as tf.Tensor2D; // [T, k]
  });
}

/**
 * The selection scores after group-limited masking: groups of E/G experts are ranked by their max score (no bias)
 * or the sum of their top-2 biased scores (bias), the best topkGroups are kept, the rest set to −inf (V3).
 */
function maskGroups(sel: tf.Tensor2D, biased: boolean, config: GateConfig): tf.Tensor2D {
  const [T, E] = sel.shape;
  const G = config.nGroups;
  const S = E / G;
  const grouped = sel.reshape([T, G, S]); // [T, G, E/G]
  const groupScores = biased ? tf.sum(tf.topk(grouped, 2).values, -1) : tf.max(grouped, -1); // [T, G]
  const kept = tf.topk(groupScores, config.topkGroups).indices; // [T, topkGroups]
  const keptGroups = tf.sum(tf.oneHot(kept, G), 1); // [T, G]: 1 for a kept group, else 0
  const keep = tf.greater(tf.tile(keptGroups.reshape([T, G, 1]), [1, 1, S]).reshape([T, E]), 0); // [T, E]
  return tf.where(keep, sel, tf.fill([T, E], -Infinity)) as tf.Tensor2D; // [T, E]
}

/**
 * DeepSeek-V3's gate (and, by configuration, Switch / GShard / Mixtral / V2): s = x·Wᵀ → softmax or sigmoid; the
 * optional `bias` [E] shifts scores for selection only; group-limited masking with −inf; top-k; weights gathered from
 * the unbiased scores, renormalised (sigmoid, or `renormalize: true`), times routeScale.
 * x [T, d], weight [E, d], bias [E] | null.
 */
export function gate(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  config: Partial<GateConfig> = {},
): GateOutput {
  const fn = "moe.gate";
  const cfg: GateConfig = withDefaults("moe.gate(x, weight, bias, config)", DEFAULT_GATE, config);
  const [, E] = checkRouterInputs(fn, x, weight);
  if (bias) checkShape(fn, "bias", bias.shape, [{ E }]);
  checkGateConfig(fn, cfg, E, bias !== null);
  return tf.tidy(() => {
    const logits = tf.matMul(x, weight, false, true) as tf.Tensor2D; // [T, E]
    const scores = (cfg.scoreFunc === "softmax" ? tf.softmax(logits) : tf.sigmoid(logits)) as tf.Tensor2D; // [T, E]
    const indices = detached((s) => {
      let sel = (bias ? tf.add(s, bias) : s) as tf.Tensor2D; // [T, E] selection scores
      if (cfg.nGroups > 1) sel = maskGroups(sel, bias !== null, cfg); // [T, E]
      return tf.topk(sel, cfg.topK).indices as tf.Tensor2D; // [T, k] int32
    }, scores);
    let weights = takeAlongRows(scores, indices); // [T, k] unbiased
    if (renormalizes(cfg)) weights = tf.div(weights, tf.sum(weights, -1, true)); // [T, k]
    if (cfg.routeScale !== 1) weights = tf.mul(weights, cfg.routeScale); // [T, k]
    return { weights, indices, scores, logits };
  });
}

/** What expert-choice routing returns. */
export interface ExpertChoiceOutput {
  /** Each expert's combine weights for its chosen tokens, [E, C] (softmax scores, differentiable). */
  weights: tf.Tensor2D;
  /** The tokens each expert chose, [E, C] int32, best first. */
  tokens: tf.Tensor2D;
  /** Softmax over experts of the logits, [T, E]. */
  scores: tf.Tensor2D;
  /** Router logits, [T, E]. */
  logits: tf.Tensor2D;
}

/**
 * Expert-choice routing (Zhou et al. 2022): S = softmax(x·Wᵀ) over experts; each expert takes its top-`capacity`
 * tokens by score, weighted by that score. Balanced by construction; a token may get 0 or several experts.
 * x [T, d], weight [E, d], capacity C ∈ [1, T].
 */
export function expertChoice(x: tf.Tensor2D, weight: tf.Tensor2D, capacity: number): ExpertChoiceOutput {
  const fn = "moe.expertChoice";
  const [T] = checkRouterInputs(fn, x, weight);
  checkPositiveInt(fn, "capacity", capacity);
  if (capacity > T) throw new Error(`${fn}: capacity must be at most the number of tokens ${T}, got ${capacity}`);
  return tf.tidy(() => {
    const logits = tf.matMul(x, weight, false, true) as tf.Tensor2D; // [T, E]
    const scores = tf.softmax(logits) as tf.Tensor2D; // [T, E]
    const { values, indices } = topk(tf.transpose(scores) as tf.Tensor2D, capacity); // [E, C] each
    return { weights: values, tokens: indices, scores, logits };
  });
}
