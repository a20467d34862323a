// Row gather and row scatter-add that cost O(rows) on every backend, forward and backward. tf.gather's gradient is
// UnsortedSegmentSum, which tfjs's cpu backend (and so `native`'s fallback paths) computes as one masked pass per
// segment, O(segments × rows); GatherNd and ScatterNd (sums duplicates) are direct, and each is the other's gradient
// (lib/ops/gather-scatter-nd.ts registers both).
import * as tf from "@tensorflow/tfjs";

function column(indices: Int32Array | tf.Tensor): tf.Tensor {
  return indices instanceof tf.Tensor
    ? tf.reshape(indices, [-1, 1])
    : tf.tensor2d(indices, [indices.length, 1], "int32"); // [n, 1]
}

/** x[indices[i]] for each i along the first axis: x [R, ...], indices [n] int32 → [n, ...]. */
export function gatherRows<T extends tf.Tensor>(x: T, indices: Int32Array | tf.Tensor): T {
  return tf.tidy(() => tf.gatherND(x, column(indices)) as T);
}

/** out[indices[i]] += updates[i] into `rows` zero rows: updates [n, ...], indices [n] int32 → [rows, ...]. */
export function scatterAddRows<T extends tf.Tensor>(updates: T, indices: Int32Array | tf.Tensor, rows: number): T {
  return tf.tidy(() => tf.scatterND(column(indices), updates, [rows, ...updates.shape.slice(1)]) as T);
}
