// One optimizer step with global-norm gradient clipping, returning the metrics the loss function reported: the update
// both RL trainers share. Reference: cleanrl ppo.py (backward, clip_grad_norm_, optimizer.step).
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm } from "../train/clip";

/** What the loss function of a step returns. */
export interface StepLoss {
  /** The scalar to minimise. */
  loss: tf.Scalar;
  /** Values to report, e.g. the loss's parts [K]. */
  metrics: tf.Tensor1D;
}

/** Minimises `f().loss` over `vars` by one step of `optimizer` after clipping the gradients' global norm to `maxGradNorm`. */
export function clippedStep(vars: tf.Variable[], optimizer: tf.Optimizer, maxGradNorm: number, f: () => StepLoss): { metrics: Float32Array; gradNorm: number } {
  let kept: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const out = f();
    kept = tf.keep(out.metrics);
    return out.loss;
  }, vars);
  const clipped = clipByGlobalNorm(grads, maxGradNorm);
  optimizer.applyGradients(clipped.grads);
  const metrics = Float32Array.from(kept!.dataSync());
  const gradNorm = clipped.norm.dataSync()[0];
  tf.dispose([value, kept!, clipped.norm, ...Object.values(grads), ...Object.values(clipped.grads)]);
  return { metrics, gradNorm };
}
