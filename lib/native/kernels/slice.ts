// Native kernels: Slice, SplitV and Concat as strided block copies (native/src/slice.cc, one memcpy per contiguous
// run). float32 and int32 data run natively (32-bit words are moved, whatever they mean); other dtypes and mixed-dtype
// concats run tfjs's cpu kernel. Unlike cpu's Slice, which returns a view of its input for a contiguous slice, every
// output is a copy in a pooled buffer of its own (every element written), so no two tensors share a buffer and the
// pool can recycle both. Attributes are normalised with the same tfjs helpers cpu uses (slice_util, split_util,
// concat_util). Reference: tfjs-backend-cpu kernels Slice, SplitV, Concat.
import * as tf from "@tensorflow/tfjs";
import type { ConcatAttrs, KernelConfig, SliceAttrs, SplitVAttrs, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../native-backend";
import { nativeKernel, tensorValues } from "./native-kernel";

type Words = Float32Array | Int32Array;

/** The addon function these kernels call. */
interface SliceAddon {
  /** Copies the box of extent `size` at `srcBegin` in src (row-major `srcShape`) to `dstBegin` in dst. */
  copyBlock(
    src: Words,
    srcShape: number[],
    srcBegin: number[],
    dst: Words,
    dstShape: number[],
    dstBegin: number[],
    size: number[],
  ): void;
}

/** x's values when they are 32-bit words of its dtype (float32 or int32), else null. */
function words(backend: NativeBackend, x: TensorInfo): Words | null {
  const values = tensorValues(backend, x);
  if (x.dtype === "float32" && values instanceof Float32Array) return values;
  if (x.dtype === "int32" && values instanceof Int32Array) return values;
  return null;
}

/** A pooled output array of `like`'s type and `size` elements. */
function output(backend: NativeBackend, like: Words, size: number): Words {
  return like instanceof Float32Array ? backend.buffers.float32(size) : backend.buffers.int32(size);
}

/** A new tensor holding the box of extent `size` at `begin` in x (normalised, valid attributes). */
function copySlice(
  backend: NativeBackend,
  addon: SliceAddon,
  x: TensorInfo,
  values: Words,
  begin: number[],
  size: number[],
): TensorInfo {
  const out = output(backend, values, tf.util.sizeFromShape(size));
  if (out.length > 0)
    addon.copyBlock(
      values,
      x.shape,
      begin,
      out,
      size,
      size.map(() => 0),
      size,
    );
  return backend.makeTensorInfo(size, x.dtype, out);
}

const sliceKernel = nativeKernel<SliceAddon>(tf.Slice, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { begin, size } = attrs as unknown as SliceAttrs;
  const values = words(backend, x);
  if (!values) return null;
  const [$begin, $size] = tf.slice_util.parseSliceParams(x, begin, size);
  tf.slice_util.assertParamsValid(x, $begin, $size);
  return copySlice(backend, addon, x, values, $begin, $size);
});

const splitVKernel = nativeKernel<SliceAddon>(tf.SplitV, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
  const values = words(backend, x);
  if (!values) return null;
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
  const splitSizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
  const begin = x.shape.map(() => 0);
  return splitSizes.map((s) => {
    const size = [...x.shape];
    size[$axis] = s;
    const part = copySlice(backend, addon, x, values, [...begin], size);
    begin[$axis] += s;
    return part;
  });
});

const concatKernel = nativeKernel<SliceAddon>(tf.Concat, ({ backend, addon, inputs: named, attrs }) => {
  const inputs = named as unknown as TensorInfo[];
  const { axis } = attrs as unknown as ConcatAttrs;
  const $axis = tf.util.parseAxisParam(axis, inputs[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    inputs.map((t) => t.shape),
    $axis,
  );
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    $axis,
  );
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const values = parts.map((t) => words(backend, t));
  const first = values[0];
  // cpu handles an empty output, a single non-empty input (an identity sharing its data) and other dtypes.
  const native =
    parts.length > 1 &&
    first != null &&
    parts.every((t, i) => t.dtype === parts[0].dtype && values[i]?.constructor === first.constructor);
  if (!native) return null;
  const out = output(backend, first, tf.util.sizeFromShape(outShape));
  const begin = outShape.map(() => 0);
  parts.forEach((t, i) => {
    addon.copyBlock(
      values[i]!,
      t.shape,
      t.shape.map(() => 0),
      out,
      outShape,
      begin,
      t.shape,
    );
    begin[$axis] += t.shape[$axis];
  });
  return backend.makeTensorInfo(outShape, parts[0].dtype, out);
});

export const sliceKernels: KernelConfig[] = [sliceKernel, splitVKernel, concatKernel];
