// Softmax cross-entropy with integer targets as a fused op (lib/ops/fused.ts): mean over rows of
// logsumexp(z) − z[target]. Reference: PyTorch F.cross_entropy (reduction "mean", class-index targets).
import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS } from "../kernel-names";
import { runFused } from "./fused";
import { ensureGradient } from "./registry";

const crossEntropyGrad: tf.GradConfig = {
  kernelName: FUSED_KERNELS.crossEntropy,
  inputsToSave: ["logits", "targets"],
  gradFunc: (dy, saved) => {
    const [logits, targets] = saved;
    return {
      logits: () =>
        tf.engine().runKernel(FUSED_KERNELS.crossEntropyGrad, { logits, targets, dy: dy as tf.Tensor }) as tf.Tensor,
      targets: () => tf.zerosLike(targets),
    };
  },
};

/** [N] one-hot rows of `targets` as a float32 mask [N, V] (comparisons: wasm's float32 oneHot is wrong). */
function targetMask(targets: tf.Tensor1D, v: number): tf.Tensor2D {
  return tf.cast(
    tf.equal(tf.reshape(targets, [-1, 1]), tf.range(0, v, 1, "int32").reshape([1, v])),
    "float32",
  ) as tf.Tensor2D; // [N, V]
}

/**
 * Mean softmax cross-entropy of `logits` [N, V] (float32) against class indices `targets` [N] (int32, each in
 * [0, V)). Differentiable with respect to logits: (softmax − onehot)/N.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  if (
    !(logits instanceof tf.Tensor) ||
    logits.rank !== 2 ||
    logits.dtype !== "float32" ||
    logits.shape[0] === 0 ||
    logits.shape[1] === 0
  ) {
    throw new Error(`softmaxCrossEntropy(logits): expected a non-empty float32 tensor [N, V], got [${logits?.shape}]`);
  }
  const [n, v] = logits.shape;
  if (!(targets instanceof tf.Tensor) || targets.rank !== 1 || targets.dtype !== "int32" || targets.shape[0] !== n) {
    throw new Error(
      `softmaxCrossEntropy(targets): expected an int32 tensor [${n}], got ${targets?.dtype} [${targets?.shape}]`,
    );
  }
  const t = targets.dataSync();
  const bad = t.findIndex((x) => !(x >= 0 && x < v));
  if (bad >= 0) throw new Error(`softmaxCrossEntropy(targets): targets[${bad}] = ${t[bad]} is outside [0, ${v})`);
  ensureGradient(crossEntropyGrad);
  return runFused(FUSED_KERNELS.crossEntropy, { logits, targets }, {}, () =>
    tf.tidy(() => {
      const picked = tf.sum(tf.mul(logits, targetMask(targets, v)), -1); // [N]
      return tf.mean(tf.sub(tf.logSumExp(logits, -1), picked)) as tf.Scalar;
    }),
  );
}
