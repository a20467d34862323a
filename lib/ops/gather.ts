// GatherV2's gradient with respect to its indices. tfjs's gradient returns the int32 indices themselves as their
// "gradient", so backprop throws ("must have 'float32' dtype") whenever the indices were computed from a
// differentiated tensor — e.g. a router gathering scores at topk(scores).indices. This config keeps tfjs's
// gradient for x and gives the indices a float32 zero gradient. Reference: tfjs-core gradients/GatherV2_grad.ts.
import * as tf from "@tensorflow/tfjs";

function tfjsGatherGrad(): tf.GradConfig {
  const config = tf.getGradient(tf.GatherV2);
  if (!config) {
    throw new Error("lib/ops: tfjs registered no GatherV2 gradient; import @tensorflow/tfjs (the umbrella package)");
  }
  return config;
}

const tfjs = tfjsGatherGrad();

/** The GatherV2 kernel's gradient: tfjs's for x, a float32 zero for the integer indices. */
export const gatherGradConfig: tf.GradConfig = {
  ...tfjs,
  gradFunc: (dy, saved, attrs) => {
    const indices = saved[1];
    return { ...tfjs.gradFunc(dy, saved, attrs), indices: () => tf.zeros(indices.shape, "float32") };
  },
};
