// RMSNorm as a fused op (lib/ops/fused.ts): y = x / √(mean(x², last axis) + eps) · gain.
// Reference: Zhang & Sennrich 2019; DeepSeek-V3 model.py RMSNorm (eps 1e-6, gain initialised to one).
import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS } from "../kernel-names";
import { runFused } from "./fused";
import { ensureGradient } from "./registry";

const rmsNormGrad: tf.GradConfig = {
  kernelName: FUSED_KERNELS.rmsNorm,
  inputsToSave: ["x", "gain"],
  gradFunc: (dy, saved, attrs) => {
    const [x, gain] = saved;
    const run = (kernel: string, inputs: tf.NamedTensorMap) =>
      tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    return {
      x: () => run(FUSED_KERNELS.rmsNormGrad, { x, gain, dy: dy as tf.Tensor }),
      gain: () => run(FUSED_KERNELS.rmsNormGainGrad, { x, dy: dy as tf.Tensor }),
    };
  },
};

/** RMSNorm of float32 `x` [..., d] over its last axis with `gain` [d]; eps ≥ 0 (default 1e-6, DeepSeek-V3's). */
export function rmsNorm<T extends tf.Tensor>(x: T, gain: tf.Tensor, eps = 1e-6): T {
  const d = x.shape[x.rank - 1];
  if (!(x instanceof tf.Tensor) || x.dtype !== "float32" || x.rank < 1)
    throw new Error("rmsNorm(x): expected a float32 tensor [..., d]");
  if (!(gain instanceof tf.Tensor) || gain.dtype !== "float32" || gain.rank !== 1 || gain.shape[0] !== d) {
    throw new Error(`rmsNorm(gain): expected a float32 tensor [${d}] (the last dimension of x), got [${gain?.shape}]`);
  }
  if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`rmsNorm(eps): expected a finite number ≥ 0, got ${eps}`);
  ensureGradient(rmsNormGrad);
  return runFused(FUSED_KERNELS.rmsNorm, { x, gain }, { eps }, () =>
    tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), gain)),
  ) as T;
}
