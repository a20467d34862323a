// The `native` tfjs backend: tfjs's MathBackendCPU with every `cpu` kernel re-registered under "native", then the hot
// kernels overridden by Node-API code that reads and writes the tensors' typed arrays in place. Reference: DESIGN.md §2.
import * as tf from "@tensorflow/tfjs";
import type { backend_util, DataId, DataType } from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { nativeAddon, nativeUnavailableReason, type NativeAddon } from "./addon";
import { BufferPool } from "./buffers";
import { nativeKernels } from "./kernels";

/** The backend's registered name. */
export const NATIVE_BACKEND = "native";

/** Registration priority: below tfjs-node's "tensorflow" (3) and above wasm (2), so tf.ready() alone would pick it. */
const PRIORITY = 2.5;

/** MathBackendCPU that knows its addon; kernels reach it through the backend they are given. */
export class NativeBackend extends MathBackendCPU {
  /** Output arrays for native kernels, recycled when their tensors are disposed (lib/native/buffers.ts). */
  readonly buffers = new BufferPool();

  constructor(readonly addon: NativeAddon) {
    super();
  }

  // Buffer-pool hooks: the pool learns which pooled array each tensor stores (write), never recycles one that was
  // handed out (readSync/read return the stored array itself) and takes back the rest when disposed (disposeData).
  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = super.write(values, shape, dtype);
    this.buffers.track(dataId, values);
    return dataId;
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    this.buffers.expose(dataId);
    return super.readSync(dataId);
  }

  override read(dataId: DataId): Promise<backend_util.BackendValues> {
    this.buffers.expose(dataId);
    return super.read(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const released = super.disposeData(dataId, force);
    if (released) this.buffers.release(dataId);
    return released;
  }

  override dispose(): void {
    this.buffers.clear();
    super.dispose();
  }
}

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
