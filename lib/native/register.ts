// Registers the `native` tfjs backend: every `cpu` kernel re-registered under "native", then the hot kernels of
// lib/native/kernels overriding them with Node-API code that reads and writes the tensors' typed arrays in place.
// Reference: DESIGN.md §2; tfjs-core kernel_registry.ts (registerBackend, registerKernel, getKernelsForBackend).
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeUnavailableReason } from "./addon";
import { nativeKernels } from "./kernels";
import { NATIVE_BACKEND, NativeBackend } from "./native-backend";

/** Registration priority: below tfjs-node's "tensorflow" (3) and above wasm (2), so tf.ready() alone would pick it. */
const PRIORITY = 2.5;

let registered = false;

/** Registers "native" with tfjs (once). Throws with the reason when the addon is not available. */
export function registerNativeBackend(): void {
  if (registered) return;
  const addon = nativeAddon();
  if (!addon) throw new Error(nativeUnavailableReason()!);
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), PRIORITY);
  const overridden = new Set(nativeKernels.map((k) => k.kernelName));
  for (const kernel of tf.getKernelsForBackend("cpu")) {
    if (!overridden.has(kernel.kernelName)) tf.registerKernel({ ...kernel, backendName: NATIVE_BACKEND });
  }
  for (const kernel of nativeKernels) tf.registerKernel({ ...kernel, backendName: NATIVE_BACKEND });
  registered = true;
}
