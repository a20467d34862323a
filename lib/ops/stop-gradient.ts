// stopGradient: identity forward, zero gradient (TensorFlow's tf.stop_gradient, JAX's lax.stop_gradient); tfjs has
// none, so it is a tf.customGrad. Reference: DESIGN.md §2 "tfjs gaps".
import * as tf from "@tensorflow/tfjs";

const stopped = tf.customGrad((input) => {
  const x = input as tf.Tensor;
  return {
    // A new tensor (sharing x's data): returning x itself would make the tape node's output alias its input.
    value: x.clone(),
    // Backprop demands float32 gradients whatever x's dtype.
    gradFunc: () => tf.zeros(x.shape, "float32"),
  };
});

/** `x` unchanged, but no gradient flows through it to whatever computed `x` (its gradient is exactly 0). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  if (!(x instanceof tf.Tensor)) throw new TypeError(`stopGradient(x): expected a tf.Tensor, got ${typeof x}`);
  return stopped(x) as T;
}
