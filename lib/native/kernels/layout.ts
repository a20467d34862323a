// Native kernels: Transpose (native/src/layout_transpose.cc), GatherV2 and UnsortedSegmentSum (layout_gather.cc; the
// segment sum is gather's gradient, so embedding backprop runs natively), and GatherNd / ScatterNd on the same two
// functions (the index tuples flattened to slice numbers here; lib/moe/rows.ts routes MoE weights through them).
// float32 and int32 data run natively (the copies move 32-bit words; ScatterNd's sum takes float32), outputs from the
// backend's buffer pool (every element written); other dtypes and empty tensors run tfjs's cpu kernel. Reference:
// tfjs-backend-cpu kernels Transpose, GatherV2, UnsortedSegmentSum, GatherNd, ScatterNd.
import * as tf from "@tensorflow/tfjs";
import type {
  GatherV2Attrs,
  KernelConfig,
  ScatterNdAttrs,
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

/**
 * The slice number of each index tuple of `indices` ([n, rank] row-major) into a tensor of `slices` slices with
 * `strides` (slices per step of each indexed dimension), or the first tuple that is out of range. A rank-1 index is
 * its own slice number (returned without a copy).
 */
function sliceNumbers(
  indices: Int32Array,
  rank: number,
  strides: number[],
  slices: number,
): { flat: Int32Array } | { bad: number } {
  const n = indices.length / rank;
  if (rank === 1 && strides[0] === 1) {
    for (let i = 0; i < n; i++) if (!(indices[i] >= 0 && indices[i] < slices)) return { bad: i };
    return { flat: indices };
  }
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < rank; j++) f += indices[i * rank + j] * strides[j];
    if (!(f >= 0 && f < slices)) return { bad: i };
    flat[i] = f;
  }
  return { flat };
}

function badIndex(indices: Int32Array, rank: number, i: number, shape: number[]): Error {
  const tuple = Array.from(indices.subarray(i * rank, (i + 1) * rank));
  return new Error(`Invalid indices: ${tuple} does not index into ${shape}`); // tfjs cpu's message
}

const gatherNdKernel = nativeKernel<LayoutAddon>(tf.GatherNd, ({ backend, addon, inputs }) => {
  const params = inputs.params as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  const values = words(backend, params);
  const index = tensorValues(backend, indices);
  if (!values || !(index instanceof Int32Array) || index.length === 0) return null;
  const [shape, numSlices, sliceSize, strides] = tf.backend_util.prepareAndValidate(
    params as tf.Tensor,
    indices as tf.Tensor,
  );
  if (numSlices * sliceSize === 0) return null;
  const rank = indices.shape[indices.shape.length - 1];
  const slices = values.length / sliceSize;
  const found = sliceNumbers(index, rank, strides, slices);
  if ("bad" in found) throw badIndex(index, rank, found.bad, params.shape);
  const out = like(backend, values, numSlices * sliceSize);
  addon.gather(values, found.flat, 1, 1, slices, sliceSize, out);
  return backend.makeTensorInfo(shape, params.dtype, out);
});

/** ScatterNd slices at least this wide are summed by the native segment sum (in double, rows across threads). */
const SCATTER_NATIVE_SLICE = 64;

const scatterNdKernel = nativeKernel<LayoutAddon>(tf.ScatterNd, ({ backend, addon, inputs, attrs }) => {
  const indices = inputs.indices as TensorInfo;
  const updates = inputs.updates as TensorInfo;
  const { shape } = attrs as unknown as ScatterNdAttrs;
  const values = words(backend, updates);
  const index = tensorValues(backend, indices);
  if (!(values instanceof Float32Array) || !(index instanceof Int32Array) || index.length === 0) return null;
  const { sliceRank, numUpdates, sliceSize, strides, outputSize } = tf.backend_util.calculateShapes(
    updates as tf.Tensor,
    indices as tf.Tensor,
    shape,
  );
  if (outputSize === 0 || numUpdates * sliceSize !== values.length) return null;
  const found = sliceNumbers(index, sliceRank, strides, outputSize / sliceSize);
  if ("bad" in found) throw badIndex(index, sliceRank, found.bad, shape);
  const out = backend.buffers.float32(outputSize);
  if (sliceSize >= SCATTER_NATIVE_SLICE) {
    addon.unsortedSegmentSum(values, found.flat, outputSize / sliceSize, out); // duplicates add up
  } else {
    // Narrow slices (a gradient scattered into [T·E] gate scores): a pass over the updates beats the segment sum's
    // per-slice buckets when slices far outnumber updates, and adds in cpu's order and float32 rounding.
    out.fill(0);
    const flat = found.flat;
    for (let i = 0; i < numUpdates; i++)
      for (let j = 0; j < sliceSize; j++) out[flat[i] * sliceSize + j] += values[i * sliceSize + j];
  }
  return backend.makeTensorInfo(shape, "float32", out);
});

export const layoutKernels: KernelConfig[] = [
  transposeKernel,
  gatherKernel,
  segmentSumKernel,
  gatherNdKernel,
  scatterNdKernel,
];
