// GELU (exact, erf form) and SiLU as fused ops (lib/ops/fused.ts). Reference: Hendrycks & Gimpel 2016 (GELU
// x·Φ(x), PyTorch F.gelu default), Elfwing et al. 2018 (SiLU x·σ(x), PyTorch F.silu; the SwiGLU gate).
import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, type FusedActivationName } from "../kernel-names";
import { runFused } from "./fused";
import { ensureGradient } from "./registry";

const activationGrad: tf.GradConfig = {
  kernelName: FUSED_KERNELS.activation,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return {
      x: () => tf.engine().runKernel(FUSED_KERNELS.activationGrad, { x, dy: dy as tf.Tensor }, attrs) as tf.Tensor,
    };
  },
};

function checkInput(fn: string, x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor) || x.dtype !== "float32") {
    throw new Error(`${fn}(x): expected a float32 tensor, got ${x instanceof tf.Tensor ? x.dtype : typeof x}`);
  }
}

function activation(name: FusedActivationName, x: tf.Tensor, composite: () => tf.Tensor): tf.Tensor {
  checkInput(name, x);
  ensureGradient(activationGrad);
  return runFused(FUSED_KERNELS.activation, { x }, { activation: name }, composite);
}

/** GELU, exact: x·Φ(x) = x/2·(1 + erf(x/√2)), elementwise on float32 `x` (any shape). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return activation("gelu", x, () =>
    tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))))),
  ) as T;
}

/** SiLU (swish): x·σ(x), elementwise on float32 `x` (any shape). */
export function silu<T extends tf.Tensor>(x: T): T {
  return activation("silu", x, () => tf.tidy(() => tf.mul(x, tf.sigmoid(x)))) as T;
}
