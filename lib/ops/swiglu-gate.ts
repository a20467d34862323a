// The SwiGLU gate silu(a) ⊙ b as a fused op (lib/ops/fused.ts): one kernel forward and one per input backward on
// `native`, instead of SiLU's and Multiply's chains over the [tokens, hidden] activations of every expert.
// Reference: Shazeer 2020, "GLU Variants Improve Transformer"; DeepSeek-V3 model.py MLP/Expert `F.silu(w1(x)) * w3(x)`.
import * as tf from "@tensorflow/tfjs";
import { silu } from "./activations";
import { FUSED_KERNELS } from "../kernel-names";
import { runFused } from "./fused";
import { ensureGradient } from "./registry";

const swigluGateGrad: tf.GradConfig = {
  kernelName: FUSED_KERNELS.swigluGate,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    const run = (kernel: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(kernel, inputs, {}) as tf.Tensor;
    return {
      a: () => run(FUSED_KERNELS.swigluGateGradA, { a, b, dy: dy as tf.Tensor }),
      b: () => run(FUSED_KERNELS.swigluGateGradB, { a, dy: dy as tf.Tensor }),
    };
  },
};

/** silu(a) ⊙ b for float32 `a` and `b` of one shape (SwiGLU's gated product). */
export function swigluGate<T extends tf.Tensor>(a: T, b: T): T {
  for (const [name, t] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.dtype !== "float32")
      throw new Error(`swigluGate(${name}): expected a float32 tensor`);
  }
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`swigluGate(b): expected the shape of a [${a.shape}], got [${b.shape}]`);
  }
  ensureGradient(swigluGateGrad);
  return runFused(FUSED_KERNELS.swigluGate, { a, b }, {}, () => tf.tidy(() => tf.mul(silu(a), b))) as T;
}
