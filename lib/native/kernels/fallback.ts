// What every native kernel shares: tensor values read in place, and tfjs's cpu implementation for the inputs native
// code does not take (other dtypes, empty tensors) — the native backend is a MathBackendCPU, so cpu kernels run on it.
import * as tf from "@tensorflow/tfjs";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../backend";

/** A kernel function that runs tfjs's cpu implementation of `kernelName`. */
export function cpuKernel(kernelName: string): KernelFunc {
  return (args) => {
    const config = tf.getKernel(kernelName, "cpu");
    if (!config) throw new Error(`cpuKernel(kernelName): tfjs has no cpu kernel "${kernelName}"`);
    return config.kernelFunc(args);
  };
}

/** The typed array holding a tensor's values on the native backend (zero-copy). */
export function tensorValues(backend: unknown, x: TensorInfo): unknown {
  return (backend as NativeBackend).data.get(x.dataId).values;
}

/** x's values when native code can take them (a float32 tensor stored as a Float32Array), else null. */
export function float32Values(backend: NativeBackend, x: TensorInfo): Float32Array | null {
  if (x.dtype !== "float32") return null;
  const values = backend.data.get(x.dataId).values;
  return values instanceof Float32Array ? values : null;
}
