// Native kernels: Transpose (native/src/layout_transpose.cc), GatherV2 and UnsortedSegmentSum (layout_gather.cc; the
// segment sum is gather's gradient, so embedding backprop runs natively). float32 and int32 data run natively (the
// copies move 32-bit words), outputs from the backend's buffer pool (every element written); other dtypes and empty
// tensors run tfjs's cpu kernel. Reference: tfjs-backend-cpu kernels
// Transpose, GatherV2, UnsortedSegmentSum.
import * as tf from "@tensorflow/tfjs";
import type {
  GatherV2Attrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
  TransposeAttrs,
  UnsortedSegmentSumAttrs,
} from "@tensorflow/tfjs";
import type { NativeBackend } from "../backend";
import { cpuKernel, tensorValues } from "./fallback";

type Words = Float32Array | Int32Array;

/** The addon functions these kernels call. */
interface LayoutAddon {
  transpose(x: Words, shape: number[], perm: number[], out: Words): void;
  /** -1, or the position of the first index outside [0, dim) (then nothing is copied). */
  gather(x: Words, indices: Int32Array, batch: number, outer: number, dim: number, slice: number, out: Words): number;
  unsortedSegmentSum(x: Float32Array, ids: Int32Array, numSegments: number, out: Float32Array): void;
}

function layoutAddon(backend: unknown): LayoutAddon {
  return (backend as NativeBackend).addon as unknown as LayoutAddon;
}

/** x's values when they are non-empty 32-bit words of its dtype (float32 or int32), else null. */
function words(backend: unknown, x: TensorInfo): Words | null {
  const values = tensorValues(backend, x);
  const ok =
    (x.dtype === "float32" && values instanceof Float32Array) || (x.dtype === "int32" && values instanceof Int32Array);
  return ok && (values as Words).length > 0 ? (values as Words) : null;
}

/** A pooled output array of x's type. */
function like(backend: unknown, values: Words, size: number): Words {
  const pool = (backend as NativeBackend).buffers;
  return values instanceof Float32Array ? pool.float32(size) : pool.int32(size);
}

const transposeKernelFunc: KernelFunc = (args) => {
  const { backend } = args;
  const x = args.inputs.x as TensorInfo;
  const { perm } = args.attrs as unknown as TransposeAttrs;
  const values = words(backend, x);
  if (!values) return cpuKernel(tf.Transpose)(args);
  const shape = perm.map((d) => x.shape[d]);
  const out = like(backend, values, values.length);
  layoutAddon(backend).transpose(values, x.shape, perm, out);
  return (backend as NativeBackend).makeTensorInfo(shape, x.dtype, out);
};

const gatherKernelFunc: KernelFunc = (args) => {
  const { backend } = args;
  const x = args.inputs.x as TensorInfo;
  const indices = args.inputs.indices as TensorInfo;
  const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
  const values = words(backend, x);
  const index = tensorValues(backend, indices);
  if (!values || !(index instanceof Int32Array) || index.length === 0) return cpuKernel(tf.GatherV2)(args);
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims ?? 0);
  const out = like(backend, values, tf.util.sizeFromShape(info.outputShape));
  if (out.length === 0) return cpuKernel(tf.GatherV2)(args);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const bad = layoutAddon(backend).gather(values, index, batchSize, outerSize, dimSize, sliceSize, out);
  if (bad >= 0) throw new Error(`GatherV2: the index value ${index[bad]} is not in [0, ${dimSize - 1}]`);
  return (backend as NativeBackend).makeTensorInfo(info.outputShape, x.dtype, out);
};

const segmentSumKernelFunc: KernelFunc = (args) => {
  const { backend } = args;
  const x = args.inputs.x as TensorInfo;
  const segmentIds = args.inputs.segmentIds as TensorInfo;
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  const values = words(backend, x);
  const ids = tensorValues(backend, segmentIds);
  const shape = [numSegments, ...x.shape.slice(1)];
  // Native: float32 rows with one id each; tfjs cpu also takes ids of higher rank (its own broadcasting rule).
  const native =
    values instanceof Float32Array &&
    ids instanceof Int32Array &&
    segmentIds.shape.length === 1 &&
    ids.length === x.shape[0] &&
    tf.util.sizeFromShape(shape) > 0;
  if (!native) return cpuKernel(tf.UnsortedSegmentSum)(args);
  const out = (backend as NativeBackend).buffers.float32(tf.util.sizeFromShape(shape));
  layoutAddon(backend).unsortedSegmentSum(values, ids, numSegments, out);
  return (backend as NativeBackend).makeTensorInfo(shape, "float32", out);
};

export const layoutKernels: KernelConfig[] = [
  { kernelName: tf.Transpose, backendName: "native", kernelFunc: transposeKernelFunc },
  { kernelName: tf.GatherV2, backendName: "native", kernelFunc: gatherKernelFunc },
  { kernelName: tf.UnsortedSegmentSum, backendName: "native", kernelFunc: segmentSumKernelFunc },
];
