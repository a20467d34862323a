// Native kernels: broadcasting binary ops (Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference), unary
// ops (Exp, Expm1, Log, Relu, Relu6, LeakyRelu, Elu, Sigmoid, Tanh, Softplus, Sqrt, Rsqrt, Square, Neg, Abs,
// Reciprocal, Step, Erf) and Cast (native/src/elementwise.cc, unary.cc, cast.cc). float32 tensors run natively with
// outputs from the backend's buffer pool; int32 Add, Sub, Multiply, Maximum and Minimum run as typed-array loops here;
// other dtypes run tfjs's cpu kernel. tfjs has no Gelu kernel (gelu composes
// Erf). Reference: tfjs-backend-cpu kernels/*.js, whose semantics these match (see the native sources).
import * as tf from "@tensorflow/tfjs";
import type { CastAttrs, DataType, KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import type { NativeBackend } from "../native-backend";
import { float32Values, nativeKernel, tensorValues } from "./native-kernel";

/** The addon functions these kernels call. */
interface ElementwiseAddon {
  /** out = a op b; plan: [size, aStride, bStride] per collapsed output dimension, outermost first. */
  elementwiseBinary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, plan: Float64Array): void;
  /** out = op(x); alpha is LeakyRelu's slope and Step's value for x <= 0. */
  elementwiseUnary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[i] = x[i] converted to out's type (Float32Array, Int32Array, Uint8Array = bool). */
  castValues(x: Float32Array | Int32Array | Uint8Array, out: Float32Array | Int32Array | Uint8Array): void;
}

/** Binary op codes (native/src/elementwise.h BinaryOp), by tfjs kernel name. */
export const BINARY_OPS = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
} as const;

/** Unary op codes (native/src/elementwise.h UnaryOp), by tfjs kernel name. */
export const UNARY_OPS = {
  Exp: 0,
  Expm1: 1,
  Log: 2,
  Relu: 3,
  Relu6: 4,
  LeakyRelu: 5,
  Elu: 6,
  Sigmoid: 7,
  Tanh: 8,
  Softplus: 9,
  Sqrt: 10,
  Rsqrt: 11,
  Square: 12,
  Neg: 13,
  Abs: 14,
  Reciprocal: 15,
  Step: 16,
  Erf: 17,
} as const;

/** Unary kernels with an `alpha` attribute (LeakyRelu's slope, Step's value for x <= 0). */
const ALPHA_ATTR = new Set<string>(["LeakyRelu", "Step"]);

/**
 * The broadcast of a and b to outShape (numpy rules) as [size, aStride, bStride] triples, outermost first: size-1
 * output dimensions are dropped and neighbours broadcast the same way are merged, so the innermost strides are 0 or
 * 1 and same-shape, scalar, row ([..., n] op [n]) and column ([..., n] op [..., 1]) cases need 1 or 2 triples.
 */
export function broadcastPlan(
  aShape: readonly number[],
  bShape: readonly number[],
  outShape: readonly number[],
): number[] {
  const rank = outShape.length;
  const plan: number[] = [];
  let aStride = 1;
  let bStride = 1;
  const dims: [number, number, number][] = [];
  for (let i = rank - 1; i >= 0; i--) {
    const aDim = aShape[i - (rank - aShape.length)] ?? 1;
    const bDim = bShape[i - (rank - bShape.length)] ?? 1;
    if (outShape[i] !== 1) dims.push([outShape[i], aDim === 1 ? 0 : aStride, bDim === 1 ? 0 : bStride]);
    aStride *= aDim;
    bStride *= bDim;
  }
  // dims runs innermost first; merge a dimension into the inner one when both inputs broadcast alike along them.
  let inner: [number, number, number] | null = null;
  const merged: [number, number, number][] = [];
  for (const dim of dims) {
    if (inner && (inner[1] === 0) === (dim[1] === 0) && (inner[2] === 0) === (dim[2] === 0)) {
      inner[0] *= dim[0];
    } else {
      inner = [...dim];
      merged.push(inner);
    }
  }
  if (merged.length === 0) merged.push([1, 0, 0]);
  for (let i = merged.length - 1; i >= 0; i--) plan.push(...merged[i]);
  return plan;
}

/**
 * int32 binary ops whose cpu result is the double result stored into an Int32Array (ToInt32, which `| 0` is too), run
 * here in JavaScript over the broadcast plan: index arithmetic (row offsets plus indices in the MoE gate, the TopK
 * gradient) then costs ~1 ns an element instead of cpu's per-element coordinate conversion.
 */
const INT32_OPS: Partial<Record<keyof typeof BINARY_OPS, (x: number, y: number) => number>> = {
  Add: (x, y) => (x + y) | 0,
  Sub: (x, y) => (x - y) | 0,
  Multiply: (x, y) => (x * y) | 0,
  Maximum: (x, y) => Math.max(x, y),
  Minimum: (x, y) => Math.min(x, y),
};

/** out = a op b over broadcastPlan's [size, aStride, bStride] triples (an odometer over the outer ones). */
function int32Broadcast(
  f: (x: number, y: number) => number,
  a: Int32Array,
  b: Int32Array,
  out: Int32Array,
  plan: number[],
) {
  const rank = plan.length / 3;
  const [n, sa, sb] = plan.slice(3 * (rank - 1));
  const idx = new Array<number>(rank).fill(0);
  let ao = 0,
    bo = 0;
  for (let pos = 0; pos < out.length; pos += n) {
    for (let j = 0; j < n; j++) out[pos + j] = f(a[ao + j * sa], b[bo + j * sb]);
    for (let d = rank - 2; d >= 0; d--) {
      ao += plan[3 * d + 1];
      bo += plan[3 * d + 2];
      if (++idx[d] < plan[3 * d]) break;
      ao -= plan[3 * d + 1] * plan[3 * d];
      bo -= plan[3 * d + 2] * plan[3 * d];
      idx[d] = 0;
    }
  }
}

function binaryKernel(kernelName: keyof typeof BINARY_OPS): KernelConfig {
  const op = BINARY_OPS[kernelName];
  const int32Op = INT32_OPS[kernelName];
  return nativeKernel<ElementwiseAddon>(kernelName, ({ backend, addon, inputs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const av = float32Values(backend, a);
    const bv = float32Values(backend, b);
    if (!av || !bv) return int32Op ? int32Kernel(backend, int32Op, a, b) : null;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    const out = backend.buffers.float32(size);
    if (size > 0)
      addon.elementwiseBinary(op, av, bv, out, Float64Array.from(broadcastPlan(a.shape, b.shape, outShape)));
    return backend.makeTensorInfo(outShape, "float32", out);
  });
}

/** The int32 op on int32 inputs stored as Int32Arrays, else null (cpu). */
function int32Kernel(
  backend: NativeBackend,
  f: (x: number, y: number) => number,
  a: TensorInfo,
  b: TensorInfo,
): TensorInfo | null {
  const av = tensorValues(backend, a);
  const bv = tensorValues(backend, b);
  if (a.dtype !== "int32" || b.dtype !== "int32" || !(av instanceof Int32Array) || !(bv instanceof Int32Array))
    return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = backend.buffers.int32(tf.util.sizeFromShape(outShape));
  if (out.length > 0) int32Broadcast(f, av, bv, out, broadcastPlan(a.shape, b.shape, outShape));
  return backend.makeTensorInfo(outShape, "int32", out);
}

function unaryKernel(kernelName: keyof typeof UNARY_OPS): KernelConfig {
  const op = UNARY_OPS[kernelName];
  const withAlpha = ALPHA_ATTR.has(kernelName);
  return nativeKernel<ElementwiseAddon>(kernelName, ({ backend, addon, inputs, attrs }) => {
    const x = inputs.x as TensorInfo;
    const xv = float32Values(backend, x);
    if (!xv) return null;
    const alpha = withAlpha ? attrs.alpha : 0;
    if (typeof alpha !== "number") {
      throw new TypeError(`native ${kernelName}: attribute alpha must be a number, got ${typeof alpha}`);
    }
    const out = backend.buffers.float32(xv.length);
    if (xv.length > 0) addon.elementwiseUnary(op, xv, out, alpha);
    return backend.makeTensorInfo(x.shape, "float32", out);
  });
}

/** dtypes Cast converts natively, with the typed array tfjs stores each as. */
const CAST_DTYPES = new Set<DataType>(["float32", "int32", "bool"]);

/**
 * Cast between float32, int32 and bool. Unlike the cpu kernel, widening casts (int32/bool to float32, bool to int32)
 * copy into the target's own typed array instead of relabelling the source's, so native kernels downstream get a
 * Float32Array (int32 values beyond 2^24 therefore round to float32, as a float32 tensor must).
 */
const castKernel = nativeKernel<ElementwiseAddon>("Cast", ({ backend, addon, inputs, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { dtype } = attrs as unknown as CastAttrs;
  const values = tensorValues(backend, x);
  const native =
    x.dtype !== dtype &&
    CAST_DTYPES.has(x.dtype) &&
    CAST_DTYPES.has(dtype) &&
    (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array);
  if (!native) return null;
  const size = values.length;
  const out =
    dtype === "float32"
      ? backend.buffers.float32(size)
      : dtype === "int32"
        ? backend.buffers.int32(size)
        : new Uint8Array(size);
  if (size > 0) addon.castValues(values, out);
  return backend.makeTensorInfo(x.shape, dtype, out);
});

export const elementwiseKernels: KernelConfig[] = [
  ...(Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[]).map(binaryKernel),
  ...(Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[]).map(unaryKernel),
  castKernel,
];
