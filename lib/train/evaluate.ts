// The eval loop: the mean loss of a model over a fixed set of batches, without gradients, each batch in tf.tidy.
// Reference: nanoGPT train.py estimate_loss (mean over eval_iters batches).
import * as tf from "@tensorflow/tfjs";

/** What a loss function may return: a scalar, or a scalar with named metrics (and tensors for an afterStep hook). */
export interface LossOutput {
  /** The value to minimise []. */
  loss: tf.Scalar;
  /** Named scalars to log (a load-balance loss, an accuracy). */
  metrics?: Record<string, tf.Scalar | number>;
  /** Tensors handed to afterStep (e.g. expert loads for a bias update); freed after it returns. */
  aux?: Record<string, tf.Tensor>;
}

/** A loss function over batches of type B. */
export type LossFn<B> = (batch: B, step: number) => tf.Scalar | LossOutput;

/** The scalar of a loss output. */
export function lossOf(out: tf.Scalar | LossOutput): tf.Scalar {
  return out instanceof tf.Tensor ? out : out.loss;
}

/** A fixed set of batches: `count` of them, batch(i) makes batch i (fresh tensors, freed after use). */
export interface BatchSet<B> {
  readonly count: number;
  batch(i: number): B;
}

/** Mean of `loss` over every batch of `set` (each batch weighted equally); the step passed to `loss` is -1. */
export function evaluateLoss<B extends tf.TensorContainer>(loss: LossFn<B>, set: BatchSet<B>): number {
  if (!(Number.isSafeInteger(set.count) && set.count >= 1))
    throw new Error(`evaluateLoss(loss, set): set.count must be an integer ≥ 1, got ${set.count}`);
  let sum = 0;
  for (let i = 0; i < set.count; i++) {
    sum += tf.tidy(() => {
      const batch = set.batch(i);
      const value = lossOf(loss(batch, -1)).dataSync()[0];
      tf.dispose(batch);
      return value;
    });
  }
  return sum / set.count;
}

/** evaluateLoss on each named set: { name: mean loss } (e.g. the validation split of every domain of a mix). */
export function evaluateSets<B extends tf.TensorContainer>(
  loss: LossFn<B>,
  sets: Record<string, BatchSet<B>>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(sets).map(([name, set]) => [name, evaluateLoss(loss, set)]));
}
