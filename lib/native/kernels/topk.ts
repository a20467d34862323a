// Native TopK (tfjs kernel "TopK") for float32 inputs, sorted output and k ≤ MAX_NATIVE_TOPK (the MoE gates' top-k
// experts and groups) on native/src/topk.cc; larger k, unsorted requests and rows with NaN run tfjs's cpu kernel.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { float32Values, nativeKernel } from "./native-kernel";

/** Above this k the insertion pass (O(n·k) a row) loses to tfjs's selection: cpu kernel. */
export const MAX_NATIVE_TOPK = 32;

interface TopKAddon {
  topk(x: Float32Array, rows: number, n: number, k: number, values: Float32Array, indices: Int32Array): boolean;
}

export const topkKernels: KernelConfig[] = [
  nativeKernel<TopKAddon>(tf.TopK, ({ backend, addon, inputs, attrs }) => {
    const x = inputs.x as TensorInfo;
    const k = attrs.k as number;
    const values = float32Values(backend, x);
    const n = x.shape[x.shape.length - 1] ?? 0;
    if (!values || attrs.sorted === false || k < 1 || k > MAX_NATIVE_TOPK || k > n) return null;
    const rows = values.length / n;
    const outShape = [...x.shape.slice(0, -1), k];
    const vals = backend.buffers.float32(rows * k);
    const idx = new Int32Array(rows * k);
    if (!addon.topk(values, rows, n, k, vals, idx)) return null; // NaN somewhere: tfjs's cpu kernel decides
    return [backend.makeTensorInfo(outShape, "float32", vals), backend.makeTensorInfo(outShape, "int32", idx)];
  }),
];
