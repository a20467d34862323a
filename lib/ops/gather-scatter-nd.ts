// Gradients of GatherNd and ScatterNd, which tfjs lacks (DESIGN.md §2). They are each other's adjoints:
// d gatherND(params, idx)/d params = scatterND(idx, dy, params.shape) (repeated indices add up), and
// d scatterND(idx, updates, shape)/d updates = gatherND(dy, idx). Integer indices get a zero gradient.
// Reference: TensorFlow's _GatherNdGrad and _ScatterNdGrad (array_grad.py).
import * as tf from "@tensorflow/tfjs";

/** The GatherNd kernel's gradient. */
export const gatherNdGradConfig: tf.GradConfig = {
  kernelName: tf.GatherNd,
  inputsToSave: ["params", "indices"],
  gradFunc: (dy, saved) => {
    const [params, indices] = saved;
    return {
      params: () => tf.scatterND(indices, dy as tf.Tensor, params.shape),
      indices: () => tf.zeros(indices.shape, "float32"),
    };
  },
};

/** The ScatterNd kernel's gradient. */
export const scatterNdGradConfig: tf.GradConfig = {
  kernelName: tf.ScatterNd,
  inputsToSave: ["indices"],
  gradFunc: (dy, saved) => {
    const [indices] = saved;
    return {
      indices: () => tf.zeros(indices.shape, "float32"),
      updates: () => tf.gatherND(dy as tf.Tensor, indices),
    };
  },
};
