// What every native kernel shares: its opening (the backend and its addon, typed; tfjs's cpu kernel for the inputs
// native code does not take: other dtypes, empty tensors — the native backend is a MathBackendCPU, so cpu kernels run
// on it) and tensor values read in place. Adding a native kernel: the C++ function in native/src, its signature in the
// kernel file's addon interface, `nativeKernel(name, body)` in that file's list, the list in ./index.ts (and, for a
// kernel of our own, its name in lib/kernel-names.ts). Reference: tfjs-backend-cpu kernels/*.ts (KernelConfig).
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from "@tensorflow/tfjs";
import { NATIVE_BACKEND, type NativeBackend } from "../native-backend";

/** A kernel function that runs tfjs's cpu implementation of `kernelName`. */
export function cpuKernel(kernelName: string): KernelFunc {
  return (args) => {
    const config = tf.getKernel(kernelName, "cpu");
    if (!config) throw new Error(`cpuKernel(kernelName): tfjs has no cpu kernel "${kernelName}"`);
    return config.kernelFunc(args);
  };
}

/** What a native kernel's body is given. */
export interface NativeKernelContext<Addon> {
  /** The native backend: its buffer pool (`buffers`), tensor data and makeTensorInfo. */
  backend: NativeBackend;
  /** The backend's addon, typed as the functions the kernel calls. */
  addon: Addon;
  inputs: NamedTensorInfoMap;
  attrs: NamedAttrMap;
}

/** The kernel's outputs, or null to run tfjs's cpu kernel of the same name instead. */
export type NativeKernelBody<Addon> = (context: NativeKernelContext<Addon>) => TensorInfo | TensorInfo[] | null;

/** The `native` backend's kernel `kernelName`: `body` on the addon, else (body returns null) tfjs's cpu kernel. */
export function nativeKernel<Addon>(kernelName: string, body: NativeKernelBody<Addon>): KernelConfig {
  const fallback = cpuKernel(kernelName);
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as NativeBackend;
    const addon = backend.addon as unknown as Addon;
    return body({ backend, addon, inputs: args.inputs, attrs: args.attrs ?? {} }) ?? fallback(args);
  };
  return { kernelName, backendName: NATIVE_BACKEND, kernelFunc };
}

/** The typed array holding a tensor's values on the native backend (zero-copy). */
export function tensorValues(backend: NativeBackend, x: TensorInfo): unknown {
  return backend.data.get(x.dataId).values;
}

/** x's values when native code can take them (a float32 tensor stored as a Float32Array), else null. */
export function float32Values(backend: NativeBackend, x: TensorInfo): Float32Array | null {
  if (x.dtype !== "float32") return null;
  const values = tensorValues(backend, x);
  return values instanceof Float32Array ? values : null;
}

/** Input `name`'s Float32Array, for kernels that take float32 only: anything else is a caller bug, reported by name. */
export function float32Input(
  backend: NativeBackend,
  kernelName: string,
  inputs: NamedTensorInfoMap,
  name: string,
): Float32Array {
  const x = inputs[name];
  const values = x && float32Values(backend, x);
  if (!values) {
    throw new TypeError(`native ${kernelName}: input ${name} must be a float32 tensor, got ${x ? x.dtype : "none"}`);
  }
  return values;
}
