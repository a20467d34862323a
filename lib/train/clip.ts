// Gradient clipping by global norm: scale every gradient by min(1, maxNorm / (‖g‖ + eps)), ‖g‖ the L2 norm of all
// gradients together. Reference: torch.nn.utils.clip_grad_norm_ (eps 1e-6, clip_coef clamped to 1).
import * as tf from "@tensorflow/tfjs";

/** torch's eps in clip_grad_norm_'s coefficient. */
export const CLIP_EPS = 1e-6;

/** The global L2 norm of `grads` (a scalar tensor). */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  if (grads.length === 0) throw new Error("globalNorm(grads): expected at least one gradient");
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * The gradients scaled so that their global norm is at most `maxNorm`, and the norm before clipping. A pure function:
 * the inputs are not disposed; maxNorm = null (or Infinity) only measures the norm and returns the same tensors.
 */
export function clipByGlobalNorm(
  grads: tf.NamedTensorMap,
  maxNorm: number | null,
  eps = CLIP_EPS,
): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  if (maxNorm !== null && !(maxNorm > 0))
    throw new Error(`clipByGlobalNorm(grads, maxNorm): maxNorm must be > 0 or null, got ${maxNorm}`);
  const names = Object.keys(grads);
  const norm = globalNorm(names.map((n) => grads[n]));
  if (maxNorm === null || maxNorm === Infinity) return { grads: { ...grads }, norm };
  const scaled = tf.tidy(() => {
    const coef = tf.minimum(1, tf.div(maxNorm, tf.add(norm, eps))); // []
    return Object.fromEntries(names.map((n) => [n, tf.mul(grads[n], coef)]));
  });
  return { grads: scaled, norm };
}
