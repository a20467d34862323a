// Off-tape computation for discrete routing decisions. tfjs's backprop fails on any kernel without a gradient that
// lies on a path from a differentiated input to the loss (Equal, Any, ...), even when no gradient could flow through
// it; a customGrad node hides its forward's kernels from the tape. Reference: tfjs-core engine.ts customGrad/isTapeOn.
import * as tf from "@tensorflow/tfjs";

/** f(x), computed off the gradient tape: the result carries a zero gradient back to x (selections, counts, masks). */
export function detached<T extends tf.Tensor>(f: (x: tf.Tensor) => T, x: tf.Tensor): T {
  const op = tf.customGrad((input) => {
    const inner = input as tf.Tensor;
    return { value: tf.tidy(() => f(inner)), gradFunc: () => tf.zeros(inner.shape, "float32") };
  });
  return op(x) as T;
}
