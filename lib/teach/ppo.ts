// PPO exercise: the clipped surrogate objective, checked against lab.rl.ppo (its pgLoss, no advantage
// normalisation). Reference: cleanrl ppo.py; Schulman et al. 2017 eq. 7; DESIGN.md §3 "PPO".
import * as tf from "@tensorflow/tfjs";
import { ppo } from "../rl/ppo-loss";
import type { Exercise } from "./exercise";

type SurrogateArgs = [newLogProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, advantages: tf.Tensor1D, clipCoef: number];

function surrogateCase(
  name: string,
  newLogProb: number[],
  oldLogProb: number[],
  advantages: number[],
  clipCoef = 0.2,
  hidden = false,
) {
  return {
    name,
    hidden,
    args: (): SurrogateArgs => [tf.tensor1d(newLogProb), tf.tensor1d(oldLogProb), tf.tensor1d(advantages), clipCoef],
  };
}

/** The clipped surrogate with one deliberate change, for the known mistakes. */
function variant(
  n: tf.Tensor1D,
  o: tf.Tensor1D,
  a: tf.Tensor1D,
  eps: number,
  change: { quotient?: boolean; min?: boolean; noClip?: boolean },
): tf.Scalar {
  const ratio = change.quotient ? tf.div(n, o) : tf.exp(tf.sub(n, o)); // [B]
  const clipped = change.noClip ? ratio : tf.clipByValue(ratio, 1 - eps, 1 + eps); // [B]
  const pg1 = tf.mul(tf.neg(a), ratio); // [B]
  const pg2 = tf.mul(tf.neg(a), clipped); // [B]
  return tf.mean(change.min ? tf.minimum(pg1, pg2) : tf.maximum(pg1, pg2)) as tf.Scalar;
}

/** The PPO clipped surrogate loss mean(max(−A·ρ, −A·clip(ρ, 1±ε))), ρ = exp(log π − log π_old). */
export const clippedSurrogate: Exercise<SurrogateArgs> = {
  id: "ppo.clippedSurrogate",
  signature:
    "(newLogProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, advantages: tf.Tensor1D, clipCoef: number) => tf.Scalar",
  cases: [
    surrogateCase(
      "ratio inside [1−ε, 1+ε], mixed advantages",
      [-1.0, -0.5, -2.0],
      [-1.05, -0.45, -2.1],
      [1.0, -0.5, 2.0],
    ),
    surrogateCase("ratio above 1+ε, positive advantage (clipped)", [-0.5, -1.0], [-1.0, -1.6], [1.0, 0.5]),
    surrogateCase("ratio below 1−ε, negative advantage (clipped)", [-2.0, -1.7], [-1.0, -1.2], [-1.0, -2.0]),
    surrogateCase("ratio above 1+ε, negative advantage (not clipped)", [-0.5, -1.0], [-1.0, -1.6], [-1.0, -0.5]),
    surrogateCase(
      "hidden: mixed batch, ε = 0.1",
      [-0.3, -1.2, -2.5, -0.9, -1.5, -0.1],
      [-0.5, -1.0, -2.0, -1.4, -1.5, -0.4],
      [0.7, -1.3, 0.4, -0.2, 1.1, -0.9],
      0.1,
      true,
    ),
  ],
  reference: (n, o, a, eps) => {
    const zeros = tf.zerosLike(n);
    return ppo(
      {
        newLogProb: n,
        oldLogProb: o,
        advantages: a,
        newValues: zeros,
        oldValues: zeros,
        returns: zeros,
        entropy: zeros,
      },
      { clipCoef: eps, normAdv: false },
    ).pgLoss;
  },
  toPlain: (output) => {
    if (!(output instanceof tf.Tensor) || output.rank !== 0)
      throw new Error("your surrogate must return a scalar tensor (tf.Scalar)");
    return output.dataSync()[0];
  },
  tolerance: 1e-5,
  mistakes: [
    {
      name: "log-prob quotient",
      hint: "the ratio π_θ/π_old is exp(newLogProb − oldLogProb); newLogProb / oldLogProb divides log-probabilities, which is not a probability ratio",
      impl: (n, o, a, e) => variant(n, o, a, e, { quotient: true }),
    },
    {
      name: "min instead of max",
      hint: "the loss is the negated objective: take max(−A·ρ, −A·clip(ρ)) (= −min(A·ρ, A·clip(ρ))), the pessimistic bound",
      impl: (n, o, a, e) => variant(n, o, a, e, { min: true }),
    },
    {
      name: "no clipping",
      hint: "clip the ratio to [1 − clipCoef, 1 + clipCoef] in the second term",
      impl: (n, o, a, e) => variant(n, o, a, e, { noClip: true }),
    },
  ],
};
