// UnsortedSegmentSum for the tfjs `wasm` backend, which has none (DESIGN.md §2): without it the gradient of
// tf.gather (GatherV2, hence every embedding lookup) fails on wasm. A JS loop over the wasm heap, TensorFlow's
// semantics: out[s, ...] = Σ over i with segmentIds[i] = s of x[i, ...]; negative ids are dropped.
// Reference: tf.math.unsorted_segment_sum; tfjs-backend-cpu kernels/UnsortedSegmentSum.ts.
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not imported: that would load the wasm binary). */
interface WasmHeap {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: Float32Array | Int32Array,
  ): tf.TensorInfo;
}

function unsortedSegmentSum({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const heap = backend as unknown as WasmHeap;
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new TypeError(`unsortedSegmentSum(x) on wasm: expected float32 or int32 x, got ${x.dtype}`);
  }
  const idShape = segmentIds.shape;
  if (idShape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(
      `unsortedSegmentSum(segmentIds) on wasm: shape [${idShape}] is not a prefix of x's [${x.shape}]`,
    );
  }
  const outShape = [numSegments, ...x.shape.slice(idShape.length)];
  const inner = tf.util.sizeFromShape(outShape.slice(1));
  const out = x.dtype === "float32" ? new Float32Array(numSegments * inner) : new Int32Array(numSegments * inner);
  const ids = heap.typedArrayFromHeap(segmentIds);
  const values = heap.typedArrayFromHeap(x);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0) continue;
    if (s >= numSegments) {
      throw new RangeError(
        `unsortedSegmentSum(segmentIds) on wasm: id ${s} at ${i} is not below numSegments ${numSegments}`,
      );
    }
    for (let j = 0, src = i * inner, dst = s * inner; j < inner; j++) out[dst + j] += values[src + j];
  }
  // Allocate only after reading: growing the wasm heap would detach the views above.
  return heap.makeOutput(outShape, x.dtype, undefined, out);
}

/** The kernel, for registration under "wasm" (only where tfjs-backend-wasm has none of its own). */
export const wasmUnsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: "wasm",
  kernelFunc: unsortedSegmentSum,
};
