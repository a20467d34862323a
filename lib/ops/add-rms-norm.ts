// Residual add + RMSNorm as one fused op (a pre-norm block's "h = x + attn(…); ffn_norm(h)"): returns both the sum and
// its normalisation, computed in one pass on the native backend (native/src/fused.cc addRmsNorm); other backends run
// the composite (add, then lab's rmsNorm). The gradient reuses RMSNorm's fused backward kernels: the sum's gradient is
// its own upstream plus RMSNorm's input gradient, and it flows unchanged to both addends. Reference: the fused
// "add + RMSNorm" of inference engines (e.g. vLLM's fused_add_rms_norm); Zhang & Sennrich 2019 (RMSNorm).
import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS } from "../kernel-names";
import { hasFusedKernel } from "./fused";
import { ensureGradient } from "./registry";
import { rmsNorm } from "./rms-norm";

const addRmsNormGrad: tf.GradConfig = {
  kernelName: FUSED_KERNELS.addRmsNorm,
  inputsToSave: ["gain"],
  outputsToSave: [true, false],
  gradFunc: (dy, saved, attrs) => {
    const [gain, sum] = saved;
    const [dSum, dNormed] = dy as tf.Tensor[];
    const run = (kernel: string, inputs: tf.NamedTensorMap) =>
      tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    const dx = tf.add(dSum, run(FUSED_KERNELS.rmsNormGrad, { x: sum, gain, dy: dNormed }));
    return {
      x: () => dx,
      residual: () => tf.clone(dx),
      gain: () => run(FUSED_KERNELS.rmsNormGainGrad, { x: sum, dy: dNormed }),
    };
  },
};

/** x + residual and rmsNorm(x + residual, gain, eps), both [..., d]; float32; eps ≥ 0 (default 1e-6). */
export function addRmsNorm<T extends tf.Tensor>(x: T, residual: T, gain: tf.Tensor, eps = 1e-6): [T, T] {
  const fn = "addRmsNorm";
  if (!(x instanceof tf.Tensor) || x.dtype !== "float32" || x.rank < 1)
    throw new Error(`${fn}(x): expected a float32 tensor [..., d]`);
  if (
    !(residual instanceof tf.Tensor) ||
    residual.dtype !== "float32" ||
    !tf.util.arraysEqual(residual.shape, x.shape)
  ) {
    throw new Error(`${fn}(residual): expected float32 [${x.shape}], got ${residual?.dtype} [${residual?.shape}]`);
  }
  const d = x.shape[x.rank - 1];
  if (!(gain instanceof tf.Tensor) || gain.dtype !== "float32" || gain.rank !== 1 || gain.shape[0] !== d) {
    throw new Error(`${fn}(gain): expected a float32 tensor [${d}] (the last dimension of x), got [${gain?.shape}]`);
  }
  if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`${fn}(eps): expected a finite number ≥ 0, got ${eps}`);
  ensureGradient(addRmsNormGrad);
  if (!hasFusedKernel(FUSED_KERNELS.addRmsNorm)) {
    return tf.tidy(() => {
      const sum = tf.add(x, residual) as T; // [..., d]
      return [sum, rmsNorm(sum, gain, eps)];
    });
  }
  return tf.engine().runKernel(FUSED_KERNELS.addRmsNorm, { x, residual, gain }, { eps }) as unknown as [T, T];
}
