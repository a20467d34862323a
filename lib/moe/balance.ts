// Load-balancing losses (pure functions: tensors in, loss + the terms it is made of out) and the aux-loss-free bias
// update. Values are unweighted (the layer multiplies by its coefficient); in brackets, the value under perfectly uniform
// routing. Reference: Switch Transformer eq. 4 `N·Σ fᵢPᵢ` [1]; DeepSeek-V3 eq. 17-20 sequence-wise `Σ fᵢPᵢ`,
// fᵢ = N/(K·T)·count [1]; DeepSeek-V2 device-level loss [1]; ST-MoE router z-loss mean(logsumexp²) [(ln E)² at zero
// logits]; the articles' MSE to uniform Σ(pᵢ − 1/E)² [0]; DeepSeek-V3 §2.1.2 bias update bᵢ += γ·sign(mean − loadᵢ).
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkShape } from "../check";
import { detached } from "./detach";
import { scatterAddRows } from "./rows";

/** A balance loss and the per-expert terms behind it. */
export interface BalanceLoss {
  /** The loss value, unweighted. */
  loss: tf.Scalar;
  /** Load term fᵢ per expert (per the loss's normalisation), [E] (not differentiable). */
  f: tf.Tensor1D;
  /** Mean normalised affinity Pᵢ per expert, [E]. */
  P: tf.Tensor1D;
}

function checkRouting(fn: string, scores: tf.Tensor, indices: tf.Tensor): [number, number, number] {
  if (scores.rank !== 2) throw new Error(`${fn}: scores must have shape [T, E], got [${scores.shape.join(", ")}]`);
  const [T, E] = scores.shape as [number, number];
  if (indices.rank !== 2) throw new Error(`${fn}: indices must have shape [T, k], got [${indices.shape.join(", ")}]`);
  checkShape(fn, "indices", indices.shape, [{ T }, "k"]);
  checkPositiveInt(fn, "indices.shape[1] (k)", indices.shape[1] as number);
  if (indices.dtype !== "int32") throw new Error(`${fn}: indices must be int32, got ${indices.dtype}`);
  return [T, E, indices.shape[1] as number];
}

/** Affinities normalised per token to sum to 1 (softmax scores unchanged up to rounding; sigmoid scores as V3 eq. 19). */
export function normalizeScores(scores: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(scores, tf.sum(scores, -1, true))); // [T, E]
}

/**
 * Selections per expert of `indices` [..., k] (values in [0, E)), counted over all axes after the first `keepLeading`:
 * [...lead, E] float32, no gradient. One scatter-add of the T·k selections (no [T, k, E] one-hot).
 */
export function expertCounts(indices: tf.Tensor, nExperts: number, keepLeading = 0): tf.Tensor {
  const lead = indices.shape.slice(0, keepLeading);
  const groups = lead.reduce((a, b) => a * b, 1);
  const perGroup = indices.size / groups;
  return detached(() => {
    const flat = tf.reshape(indices, [-1]); // [size]
    const group = () => tf.floorDiv(tf.range(0, indices.size, 1, "int32"), tf.scalar(perGroup, "int32")); // [size]
    const ids = groups === 1 ? flat : tf.add(tf.mul(group(), tf.scalar(nExperts, "int32")), flat); // [size] group·E + expert
    const counts = scatterAddRows(tf.ones([indices.size]), ids, groups * nExperts); // [groups·E]
    return tf.reshape(counts, [...lead, nExperts]); // [...lead, E]
  }, indices);
}

/** Switch aux loss E·Σ fᵢPᵢ with fᵢ = share of the T·k selections, Pᵢ = mean normalised affinity [1 when uniform]. */
export function switchLoss(scores: tf.Tensor2D, indices: tf.Tensor2D): BalanceLoss {
  const [T, E, k] = checkRouting("moe.switchLoss", scores, indices);
  return tf.tidy(() => {
    const f = tf.div(expertCounts(indices, E), T * k) as tf.Tensor1D; // [E]
    const P = tf.mean(normalizeScores(scores), 0) as tf.Tensor1D; // [E]
    return { loss: tf.mul(tf.sum(tf.mul(f, P)), E) as tf.Scalar, f, P };
  });
}

/**
 * DeepSeek-V3 sequence-wise loss Σ fᵢPᵢ per sequence, fᵢ = E/(k·L)·countᵢ, Pᵢ = mean over the sequence of normalised
 * affinities, averaged over the T/L sequences of length `seqLen` (rows row-major by sequence) [1 when uniform].
 * f and P are the per-expert means over sequences.
 */
export function sequenceWiseLoss(scores: tf.Tensor2D, indices: tf.Tensor2D, seqLen: number): BalanceLoss {
  const fn = "moe.sequenceWiseLoss";
  const [T, E, k] = checkRouting(fn, scores, indices);
  checkPositiveInt(fn, "seqLen", seqLen);
  if (T % seqLen !== 0) throw new Error(`${fn}: seqLen must divide the number of tokens ${T}, got ${seqLen}`);
  const B = T / seqLen;
  return tf.tidy(() => {
    const fSeq = tf.mul(expertCounts(indices.reshape([B, seqLen, k]), E, 1), E / (k * seqLen)); // [B, E]
    const pSeq = tf.mean(normalizeScores(scores).reshape([B, seqLen, E]), 1); // [B, E]
    const loss = tf.mean(tf.sum(tf.mul(fSeq, pSeq), -1)) as tf.Scalar;
    return { loss, f: tf.mean(fSeq, 0) as tf.Tensor1D, P: tf.mean(pSeq, 0) as tf.Tensor1D };
  });
}

/**
 * DeepSeek's device-level (group-level) loss Σ_g f'_g P'_g over `nGroups` contiguous expert groups: f'_g = mean of
 * fᵢ = E/(k·T)·countᵢ in the group, P'_g = sum of Pᵢ in the group [1 when uniform]. f, P are the per-group terms [G].
 */
export function groupBalanceLoss(scores: tf.Tensor2D, indices: tf.Tensor2D, nGroups: number): BalanceLoss {
  const fn = "moe.groupBalanceLoss";
  const [T, E, k] = checkRouting(fn, scores, indices);
  checkPositiveInt(fn, "nGroups", nGroups);
  if (E % nGroups !== 0) throw new Error(`${fn}: nGroups must divide the number of experts ${E}, got ${nGroups}`);
  return tf.tidy(() => {
    const fi = tf.mul(expertCounts(indices, E), E / (k * T)); // [E]
    const pi = tf.mean(normalizeScores(scores), 0); // [E]
    const f = tf.mean(fi.reshape([nGroups, E / nGroups]), 1) as tf.Tensor1D; // [G]
    const P = tf.sum(pi.reshape([nGroups, E / nGroups]), 1) as tf.Tensor1D; // [G]
    return { loss: tf.sum(tf.mul(f, P)) as tf.Scalar, f, P };
  });
}

/** Router z-loss mean over tokens of logsumexp(logits)² [(ln E)² at zero logits]. logits [T, E]. */
export function zLoss(logits: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 2) throw new Error(`moe.zLoss: logits must have shape [T, E], got [${logits.shape.join(", ")}]`);
  return tf.tidy(() => tf.mean(tf.square(tf.logSumExp(logits, -1))) as tf.Scalar);
}

/** The articles' MSE-to-uniform loss Σᵢ(pᵢ − 1/E)², pᵢ = mean normalised affinity (importance) [0 when uniform]. */
export function mseLoss(scores: tf.Tensor2D): { loss: tf.Scalar; P: tf.Tensor1D } {
  if (scores.rank !== 2)
    throw new Error(`moe.mseLoss: scores must have shape [T, E], got [${scores.shape.join(", ")}]`);
  const E = scores.shape[1];
  return tf.tidy(() => {
    const P = tf.mean(normalizeScores(scores), 0) as tf.Tensor1D; // [E]
    return { loss: tf.sum(tf.square(tf.sub(P, 1 / E))) as tf.Scalar, P };
  });
}

/** Aux-loss-free balancing: the new bias b + γ·sign(mean(load) − load) (a rule, not a gradient). bias, load [E]. */
export function auxFreeBiasUpdate(bias: tf.Tensor1D, load: tf.Tensor1D, rate: number): tf.Tensor1D {
  const fn = "moe.auxFreeBiasUpdate";
  checkShape(fn, "load", load.shape, [{ E: bias.shape[0] }]);
  if (!(Number.isFinite(rate) && rate >= 0)) throw new Error(`${fn}: rate must be a finite number ≥ 0, got ${rate}`);
  return tf.tidy(() => tf.add(bias, tf.mul(tf.sign(tf.sub(tf.mean(load), load)), rate)) as tf.Tensor1D); // [E]
}
