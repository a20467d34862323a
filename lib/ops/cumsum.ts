// Cumsum with a correct gradient on every axis. tfjs 4.22's Cumsum gradient transposes its result with the axis
// permutation although tf.cumsum already works on the given axis: off the last axis it throws (non-square) or returns
// the transposed gradient (square). The gradient of a cumulative sum is the cumulative sum of dy in the opposite
// direction along the same axis, with the same exclusivity. Reference: TensorFlow's _CumsumGrad (math_grad.py).
import * as tf from "@tensorflow/tfjs";
import { ensureGradient } from "./registry";

/** The Cumsum kernel's gradient, for any axis and all four exclusive/reverse combinations. */
export const cumsumGradConfig: tf.GradConfig = {
  kernelName: tf.Cumsum,
  gradFunc: (dy, _saved, attrs) => {
    const { axis, exclusive, reverse } = attrs as unknown as tf.CumsumAttrs;
    return { x: () => tf.cumsum(dy as tf.Tensor, axis, exclusive, !reverse) };
  },
};

/**
 * Cumulative sum of `x` along `axis` (negative counts from the end; default 0 as in tf.cumsum). `exclusive`: each
 * entry leaves out its own value; `reverse`: sums from the end of the axis.
 */
export function cumsum<T extends tf.Tensor>(x: T, axis = 0, exclusive = false, reverse = false): T {
  const rank = x.rank;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(
      `cumsum(x, axis): expected an integer axis in [${-rank}, ${rank}) for a rank-${rank} x, got ${axis}`,
    );
  }
  ensureGradient(cumsumGradConfig);
  return tf.cumsum(x, axis < 0 ? axis + rank : axis, exclusive, reverse);
}
