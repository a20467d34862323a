// Native kernels: Transpose (native/src/layout_transpose.cc), GatherV2 and UnsortedSegmentSum (layout_gather.cc; the
// segment sum is gather's gradient, so embedding backprop runs natively). float32 and int32 data run natively (the
// copies move 32-bit words), outputs from the backend's buffer pool (every element written); other dtypes and empty
// tensors run tfjs's cpu kernel. Reference: tfjs-backend-cpu kernels
// Transpose, GatherV2, UnsortedSegmentSum.
import * as tf from "@tensorflow/tfjs";
import type {
  GatherV2Attrs,
  KernelConfig,
  TensorInfo,
  TransposeAttrs,
  UnsortedSegmentSumAttrs,
} from "@tensorflow/tfjs";
import type { NativeBackend } from "../native-backend";
import { nativeKernel, tensorValues } from "./native-kernel";

type Words = Float32Array | Int32Array;

/** The addon functions these kernels call. */
interface LayoutAddon {
  transpose(x: Words, shape: number[], perm: number[], out: Words): void;
  /** -1, or the position of the first index outside [0, dim) (then nothing is copied). */
  gather(x: Words, indices: Int32Array, batch: number, outer: number, dim: number, slice: number, out: Words): number;
  unsortedSegmentSum(x: Float32Array, ids: Int32Array, numSegments: number, out: Float32Array): void;
}

/** x's values when they are non-empty 32-bit words of its dtype (float32 or int32), else null. */
function words(backend: NativeBackend, x: TensorInfo): Words | null {
  const values = tensorValues(backend, x);
  const ok =
    (x.dtype === "float32" && values instanceof Float32Array) || (x.dtype === "int32" && values instanceof Int32Array);
  return ok && (values as Words).length > 0 ? (values as Words) : null;
}

/** A pooled output array of x's type. */
function like(backend: NativeBackend, values: Words, size: number): Words {
  return values instanceof Float32Array ? backend.buffers.float32(size) : backend.buffers.int32(size);
}

const transposeKernel = nativeKernel<LayoutAddon>(tf.Transpose, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { perm } = attrs as unknown as TransposeAttrs;
  const values = words(backend, x);
  if (!values) return null;
  const shape = perm.map((d) => x.shape[d]);
  const out = like(backend, values, values.length);
  addon.transpose(values, x.shape, perm, out);
  return backend.makeTensorInfo(shape, x.dtype, out);
});

const gatherKernel = nativeKernel<LayoutAddon>(tf.GatherV2, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
  const values = words(backend, x);
  const index = tensorValues(backend, indices);
  if (!values || !(index instanceof Int32Array) || index.length === 0) return null;
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims ?? 0);
  const out = like(backend, values, tf.util.sizeFromShape(info.outputShape));
  if (out.length === 0) return null;
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const bad = addon.gather(values, index, batchSize, outerSize, dimSize, sliceSize, out);
  if (bad >= 0) throw new Error(`GatherV2: the index value ${index[bad]} is not in [0, ${dimSize - 1}]`);
  return backend.makeTensorInfo(info.outputShape, x.dtype, out);
});

const segmentSumKernel = nativeKernel<LayoutAddon>(tf.UnsortedSegmentSum, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
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
  if (!native) return null;
  const out = backend.buffers.float32(tf.util.sizeFromShape(shape));
  addon.unsortedSegmentSum(values, ids, numSegments, out);
  return backend.makeTensorInfo(shape, "float32", out);
});

export const layoutKernels: KernelConfig[] = [transposeKernel, gatherKernel, segmentSumKernel];
