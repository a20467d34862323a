// Native kernels: Sum, Mean, Max, ArgMax (native/src/reduce.cc: any set of axes without transposing, sums in double)
// and Softmax (native/src/softmax.cc). float32 runs natively, outputs from the backend's buffer pool (every element
// written); other dtypes and empty tensors run tfjs's cpu kernel.
// tfjs has no LogSoftmax kernel (ops/log_softmax composes Max, Sub, Exp, Sum, Log), so logSoftmax, logSumExp and
// softmax cross-entropy speed up through Max and Sum here. Reference: tfjs-backend-cpu kernels Sum, Max, Mean, ArgMax,
// Softmax.
import * as tf from "@tensorflow/tfjs";
import type { ArgMaxAttrs, KernelConfig, MaxAttrs, SoftmaxAttrs, SumAttrs, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../native-backend";
import { nativeKernel, tensorValues } from "./native-kernel";

/** The addon functions these kernels call (native/src/reduce.cc, softmax.cc). */
interface ReduceAddon {
  reduceSum(x: Float32Array, shape: number[], axes: number[], divisor: number, out: Float32Array): void;
  reduceMax(x: Float32Array, shape: number[], axes: number[], out: Float32Array): void;
  argMax(x: Float32Array, shape: number[], axis: number, out: Int32Array): void;
  softmax(x: Float32Array, n: number, out: Float32Array): void;
}

/** The float32 values of x when the native code can take it (float32, not empty), else null. */
function nativeInput(backend: NativeBackend, x: TensorInfo): Float32Array | null {
  const values = tensorValues(backend, x);
  return x.dtype === "float32" && values instanceof Float32Array && values.length > 0 ? values : null;
}

/** The axes a reduction attribute names (negative allowed), or null when it repeats one (left to the cpu kernel). */
function reductionAxes(axis: number | number[], shape: number[]): number[] | null {
  const axes = tf.util.parseAxisParam(axis, shape);
  return new Set(axes).size === axes.length ? axes : null;
}

/** Sum (divide = false) or Mean (divide = true): float32 sums accumulated in double, rounded once. */
function sumKernel(kernelName: string, divide: boolean): KernelConfig {
  return nativeKernel<ReduceAddon>(kernelName, ({ backend, addon, inputs, attrs }) => {
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as unknown as SumAttrs;
    const values = nativeInput(backend, x);
    const axes = values && reductionAxes(axis, x.shape);
    if (!values || !axes) return null;
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = backend.buffers.float32(tf.util.sizeFromShape(outShape));
    const divisor = divide ? tf.util.sizeFromShape(reduceShape) : 1;
    addon.reduceSum(values, x.shape, axes, divisor, out);
    const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return backend.makeTensorInfo(shape, "float32", out);
  });
}

const maxKernel = nativeKernel<ReduceAddon>(tf.Max, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { reductionIndices, keepDims } = attrs as unknown as MaxAttrs;
  const values = nativeInput(backend, x);
  const axes = values && reductionAxes(reductionIndices, x.shape);
  if (!values || !axes) return null;
  const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = backend.buffers.float32(tf.util.sizeFromShape(outShape));
  addon.reduceMax(values, x.shape, axes, out);
  const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return backend.makeTensorInfo(shape, "float32", out);
});

const argMaxKernel = nativeKernel<ReduceAddon>(tf.ArgMax, ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { axis } = attrs as unknown as ArgMaxAttrs;
  const values = nativeInput(backend, x);
  const axes = values && tf.util.parseAxisParam(axis, x.shape);
  if (!values || !axes || axes.length !== 1) return null;
  const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  const out = backend.buffers.int32(tf.util.sizeFromShape(outShape));
  addon.argMax(values, x.shape, axes[0], out);
  return backend.makeTensorInfo(outShape, "int32", out);
});

const softmaxKernel = nativeKernel<ReduceAddon>(tf.Softmax, ({ backend, addon, inputs, attrs }) => {
  const logits = inputs.logits as TensorInfo;
  const { dim } = attrs as unknown as SoftmaxAttrs;
  const rank = logits.shape.length;
  const values = nativeInput(backend, logits);
  // tfjs softmaxes along the last axis only; the cpu kernel raises its error for any other.
  if (!values || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const out = backend.buffers.float32(values.length);
  addon.softmax(values, logits.shape[rank - 1], out);
  return backend.makeTensorInfo(logits.shape, "float32", out);
});

export const reductionKernels: KernelConfig[] = [
  sumKernel(tf.Sum, false),
  sumKernel(tf.Mean, true),
  maxKernel,
  argMaxKernel,
  softmaxKernel,
];
