// The `native` tfjs backend object: tfjs's MathBackendCPU that knows the Node-API addon and recycles the kernels'
// output arrays. Its kernels are in lib/native/kernels, registered with tfjs by lib/native/register.ts.
// Reference: DESIGN.md §2; tfjs-backend-cpu backend_cpu.ts (MathBackendCPU).
import type { backend_util, DataId, DataType } from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { NativeAddon } from "./addon";
import { BufferPool } from "./buffers";

/** The backend's registered name. */
export const NATIVE_BACKEND = "native";

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
