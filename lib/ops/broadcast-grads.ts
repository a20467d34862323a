// Maximum, Minimum and SquaredDifference gradients that handle broadcasting. tfjs 4.22's versions return dy-shaped
// gradients without summing over the broadcast axes, so any broadcast input makes backprop throw (on every backend).
// Reference: TensorFlow's _MaximumGrad/_MinimumGrad/_SquaredDifferenceGrad (math_grad.py), which reduce to each
// input's shape; ties go to `a` for Maximum/Minimum as in tfjs.
import * as tf from "@tensorflow/tfjs";

/** `grad` summed over the axes along which `shape` was broadcast to grad's shape, then reshaped to `shape`. */
function reduceTo(grad: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, grad.shape);
  return (axes.length > 0 ? tf.sum(grad, axes) : grad).reshape(shape);
}

/** A gradient for binary kernel `kernelName` from the elementwise partials `da(a, b)` and `db(a, b)`. */
function broadcastGradient(
  kernelName: string,
  da: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  db: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      const g = dy as tf.Tensor;
      return { a: () => reduceTo(tf.mul(g, da(a, b)), a.shape), b: () => reduceTo(tf.mul(g, db(a, b)), b.shape) };
    },
  };
}

export const maximumGradConfig = broadcastGradient(
  tf.Maximum,
  (a, b) => tf.cast(tf.greaterEqual(a, b), "float32"),
  (a, b) => tf.cast(tf.less(a, b), "float32"),
);

export const minimumGradConfig = broadcastGradient(
  tf.Minimum,
  (a, b) => tf.cast(tf.lessEqual(a, b), "float32"),
  (a, b) => tf.cast(tf.greater(a, b), "float32"),
);

export const squaredDifferenceGradConfig = broadcastGradient(
  tf.SquaredDifference,
  (a, b) => tf.mul(2, tf.sub(a, b)),
  (a, b) => tf.mul(2, tf.sub(b, a)),
);
