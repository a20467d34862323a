// Next-token cross-entropy from logits: −log softmax(logits)[target], per token and averaged. The target entries are
// gathered from the flattened log-probabilities at n·V + target (no one-hot: wasm's float32 oneHot is broken, and a
// broadcast Equal is slow). Reference: torch.nn.functional.cross_entropy.
import * as tf from "@tensorflow/tfjs";
import { registerGradients } from "../ops";

registerGradients();

function checkLogitsTargets(fn: string, logits: tf.Tensor2D, targets: tf.Tensor1D): void {
  if (logits.rank !== 2) throw new Error(`${fn}: logits must have shape [N, V], got [${logits.shape}]`);
  if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0] || targets.dtype !== "int32") {
    throw new Error(`${fn}: targets must be int32 [${logits.shape[0]}], got ${targets.dtype} [${targets.shape}]`);
  }
}

/** Per-token loss [N]: logsumexp(logits) − logits[target]. logits [N, V], targets [N] int32 in [0, V). */
export function tokenCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  checkLogitsTargets("tokenCrossEntropy(logits, targets)", logits, targets);
  const [N, V] = logits.shape;
  const ids = targets.dataSync();
  const flat = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    if (!(ids[n] >= 0 && ids[n] < V)) throw new Error(`tokenCrossEntropy(logits, targets): targets[${n}] = ${ids[n]} is outside [0, ${V})`);
    flat[n] = n * V + ids[n];
  }
  return tf.tidy(() => {
    const logp = tf.reshape(tf.logSoftmax(logits), [N * V]); // [N·V]
    return tf.neg(tf.gather(logp, tf.tensor1d(flat, "int32"))) as tf.Tensor1D; // [N]
  });
}

/** Mean next-token cross-entropy (nats): logits [N, V], targets [N] int32. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tokenCrossEntropy(logits, targets)) as tf.Scalar);
}
