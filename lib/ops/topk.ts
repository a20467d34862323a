// TopK with a gradient through its values: d(values)/dx scatters the upstream gradient back to the positions topk
// selected (ties: the index topk returned); indices get none. tfjs registers no TopK gradient (DESIGN.md §2); this one
// is registered for the kernel, so plain tf.topk is differentiable too. Reference: TensorFlow's _TopKGrad (nn_grad.py).
import * as tf from "@tensorflow/tfjs";
import { ensureGradient } from "./registry";

/**
 * `updates` ([...rows, k]) written at `indices` ([...rows, k], int32, distinct within a row) of a zero tensor of
 * `shape` ([...rows, n]). Built on ScatterNd over the flattened tensor: every backend has it (wasm lacks
 * UnsortedSegmentSum, and its float32 oneHot is wrong).
 */
function scatterLastAxis(updates: tf.Tensor, indices: tf.Tensor, shape: number[]): tf.Tensor {
  const n = shape[shape.length - 1];
  const k = indices.shape[indices.shape.length - 1];
  const size = tf.util.sizeFromShape(shape);
  if (size === 0 || k === 0) return tf.zeros(shape, "float32");
  const rows = size / n;
  return tf.tidy(() => {
    const rowStart = tf.range(0, size, n, "int32").reshape([rows, 1]); // [rows, 1]
    const flat = indices
      .reshape([rows, k])
      .add(rowStart)
      .reshape([rows * k, 1]); // [rows·k, 1] into [rows·n]
    return tf.scatterND(flat, updates.reshape([rows * k]), [size]).reshape(shape); // [...rows, n]
  });
}

/** The TopK kernel's gradient: dx = dValues scattered to the selected indices. */
export const topkGradConfig: tf.GradConfig = {
  kernelName: tf.TopK,
  inputsToSave: ["x"],
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    // TopK has two outputs, so tfjs passes [dValues, dIndices]; dIndices (integer positions) carries nothing.
    const [dValues] = dy as tf.Tensor[];
    const [x, indices] = saved;
    return { x: () => scatterLastAxis(dValues, indices, x.shape) };
  },
};

/** The `k` largest entries along the last axis and their positions, differentiable through `values`. */
export function topk<T extends tf.Tensor>(x: T, k = 1, sorted = true): { values: T; indices: T } {
  ensureGradient(topkGradConfig);
  return tf.topk(x, k, sorted);
}
