// Fused ops: one tfjs kernel name per op, implemented in C++ by the `native` backend (lib/native/kernels/fused.ts)
// with a registered gradient that runs the fused backward kernel; every other backend runs the composite tfjs version
// of the same math (differentiated by tfjs), which is also the reference the native kernels are tested against.
// Kernel names: lib/kernel-names.ts FUSED_KERNELS.
import * as tf from "@tensorflow/tfjs";

/** Whether the active backend has a fused kernel `kernelName`. */
export function hasFusedKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** The fused kernel on backends that have it, else `composite()` (plain tfjs ops, differentiable by tfjs). */
export function runFused<T extends tf.Tensor>(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap,
  composite: () => T,
): T {
  if (hasFusedKernel(kernelName)) return tf.engine().runKernel(kernelName, inputs, attrs) as T;
  return composite();
}
