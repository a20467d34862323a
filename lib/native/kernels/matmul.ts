// Native kernels BatchMatMul and _FusedMatMul on the addon's sgemm (native/src/gemm*.cc). Batch dimensions broadcast
// like numpy, including mixed ones ([2,1,m,k]×[1,3,k,n] → [2,3,m,n], which tfjs cpu gets wrong); the fused bias and
// activation follow tfjs-backend-cpu's _FusedMatMul (add, then utils/fused_utils applyActivation). Inputs that are
// not float32, and bias/prelu shapes that would enlarge the output, run tfjs's cpu kernels instead.
// Also the kernel of the opt-in bf16 product (lib/ops/matmul-bf16.ts: Intel AMX, else AVX512-BF16 dot products).
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { nativeAddon, nativeUnavailableReason } from "../addon";
import type { NativeBackend } from "../native-backend";
import { BF16_MATMUL_KERNEL, type MatMulBf16Attrs } from "../../kernel-names";
import { float32Input, nativeKernel, tensorValues } from "./native-kernel";

/** tfjs's fused activations (backend_util.Activation). */
export type FusedActivation = "linear" | "relu" | "relu6" | "elu" | "sigmoid" | "leakyrelu" | "prelu";

/** A tensor broadcast over every output matrix: element (i, j) of matrix t is data[offsets[t] + i·rowStride + j·colStride]. */
export interface MatmulOperand {
  /** The values. */
  data: Float32Array;
  /** Start of each output matrix's values (one entry per matrix of the batch). */
  offsets: Float64Array;
  /** Step between rows (0 when broadcast over rows). */
  rowStride: number;
  /** Step between columns: 1, or 0 when broadcast over columns. */
  colStride: 0 | 1;
}

/** What the addon applies to each product: y = activation(c + bias). */
export interface MatmulEpilogue {
  /** Default linear. */
  activation?: FusedActivation;
  /** leakyrelu slope for negative inputs. */
  alpha?: number;
  /** Added before the activation. */
  bias?: MatmulOperand;
  /** prelu slopes for negative inputs (activation "prelu"). */
  prelu?: MatmulOperand;
}

/** The addon functions behind these kernels (native/src/gemm_napi.cc). */
export interface MatmulAddon {
  /**
   * out[t·m·n ..] = epilogue(op(A_t)·op(B_t)) for t < aOffsets.length, A_t = a[aOffsets[t] ..] as [m,k] ([k,m] when
   * transA), B_t = b[bOffsets[t] ..] as [k,n] ([n,k] when transB). Throws a TypeError naming a bad argument.
   */
  matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aOffsets: Float64Array,
    bOffsets: Float64Array,
    epilogue?: MatmulEpilogue,
  ): void;
  /** The micro-kernel family in use: "avx512", "avx2" or "portable". */
  matmulKernel(): string;
  /**
   * out[m,n] = bf16(A)[m,k] · bf16(B)[k,n] on AMX or AVX512-BF16, fp32 accumulation; a holds A ([k,m] when transA),
   * b holds B ([n,k] when transB). Throws where matmulBf16Support() is not null.
   */
  matmulBf16(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void;
  /** null when the AMX-BF16 product can run here, else why not. */
  matmulBf16Support(): string | null;
  /** The engine matmulBf16 uses here, null where none. */
  matmulBf16Engine(): "amx" | "avx512bf16" | null;
}

const ACTIVATIONS: ReadonlySet<string> = new Set<FusedActivation>([
  "linear",
  "relu",
  "relu6",
  "elu",
  "sigmoid",
  "leakyrelu",
  "prelu",
]);

/** tfjs fused.matMul's default leakyrelu slope, used when a direct kernel call leaves it out. */
const DEFAULT_LEAKYRELU_ALPHA = 0.2;

function valuesOf(backend: NativeBackend, t: TensorInfo): Float32Array {
  const values = tensorValues(backend, t);
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

/** The offsets of an unbatched product (the addon only reads them). */
const SINGLE_MATRIX = new Float64Array(1);

/**
 * Where each matrix of a batch starts in an input whose batch shape `inBatch` broadcasts to `outBatch` (numpy rules,
 * right-aligned; a dimension of 1 repeats). `matrixSize` is the input's elements per matrix.
 */
function broadcastOffsets(outBatch: readonly number[], inBatch: readonly number[], matrixSize: number): Float64Array {
  const rank = outBatch.length;
  if (rank === 0) return SINGLE_MATRIX;
  const lead = rank - inBatch.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = matrixSize;
  for (let d = rank - 1; d >= lead; d--) {
    const dim = inBatch[d - lead];
    if (dim !== 1) strides[d] = stride;
    stride *= dim;
  }
  const count = tf.util.sizeFromShape(outBatch as number[]);
  const offsets = new Float64Array(count);
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let t = 0; t < count; t++) {
    offsets[t] = offset;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      if (index[d] < outBatch[d]) break;
      offset -= strides[d] * index[d];
      index[d] = 0;
    }
  }
  return offsets;
}

/**
 * How a bias or prelu-slopes tensor of `shape` broadcasts over an output of `outShape` ([...batch, m, n]), or null
 * when it does not broadcast to exactly that shape (tfjs cpu would then enlarge the output or throw).
 */
function operandPlan(shape: readonly number[], outShape: readonly number[]): Omit<MatmulOperand, "data"> | null {
  const rank = outShape.length;
  if (shape.length > rank) return null;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  for (let d = 0; d < rank; d++) if (padded[d] !== 1 && padded[d] !== outShape[d]) return null;
  const rows = padded[rank - 2];
  const cols = padded[rank - 1];
  return {
    offsets: broadcastOffsets(outShape.slice(0, -2), padded.slice(0, -2), rows * cols),
    rowStride: rows === 1 ? 0 : cols,
    colStride: cols === 1 ? 0 : 1,
  };
}

interface ProductShape {
  m: number;
  n: number;
  k: number;
  outBatch: number[];
  outShape: number[];
}

/** Checks the operands like tfjs's BatchMatMul and returns the output's shape. */
function productShape(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  kernel: string,
): ProductShape {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) {
    throw new Error(`${kernel}: a and b must have rank >= 2, got shapes [${a.shape}] and [${b.shape}]`);
  }
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const kA = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
        `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { m, n, k: kA, outBatch, outShape: [...outBatch, m, n] };
}

/** The product (and epilogue) of float32 a and b on the addon. */
function nativeProduct(
  backend: NativeBackend,
  addon: MatmulAddon,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  shape: ProductShape,
  epilogue?: MatmulEpilogue,
): TensorInfo {
  const { m, n, k, outBatch, outShape } = shape;
  const out = backend.buffers.float32(tf.util.sizeFromShape(outShape)); // every element is written below
  if (out.length > 0) {
    addon.matmul(
      valuesOf(backend, a),
      valuesOf(backend, b),
      out,
      m,
      n,
      k,
      transposeA,
      transposeB,
      broadcastOffsets(outBatch, a.shape.slice(0, -2), m * k),
      broadcastOffsets(outBatch, b.shape.slice(0, -2), k * n),
      epilogue,
    );
  }
  return backend.makeTensorInfo(outShape, "float32", out);
}

const batchMatMulKernel = nativeKernel<MatmulAddon>(tf.BatchMatMul, ({ backend, addon, inputs, attrs }) => {
  const { a, b } = inputs;
  const { transposeA = false, transposeB = false } = attrs as NamedAttrMap & {
    transposeA?: boolean;
    transposeB?: boolean;
  };
  if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
  return nativeProduct(
    backend,
    addon,
    a,
    b,
    transposeA,
    transposeB,
    productShape(a, b, transposeA, transposeB, tf.BatchMatMul),
  );
});

const fusedMatMulKernel = nativeKernel<MatmulAddon>(tf._FusedMatMul, ({ backend, addon, inputs, attrs: named }) => {
  const { a, b, bias, preluActivationWeights: prelu } = inputs;
  const attrs = named as NamedAttrMap & {
    transposeA?: boolean;
    transposeB?: boolean;
    activation?: string;
    leakyreluAlpha?: number;
  };
  const { transposeA = false, transposeB = false } = attrs;
  const activation = attrs.activation ?? "linear";
  if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return null;
  if (!ACTIVATIONS.has(activation) || (activation === "prelu" && !prelu)) return null;
  const shape = productShape(a, b, transposeA, transposeB, tf._FusedMatMul);
  const epilogue: MatmulEpilogue = {
    activation: activation as FusedActivation,
    alpha: attrs.leakyreluAlpha ?? DEFAULT_LEAKYRELU_ALPHA,
  };
  for (const [key, t] of [
    ["bias", bias],
    ["prelu", activation === "prelu" ? prelu : undefined],
  ] as const) {
    if (!t) continue;
    const plan = operandPlan(t.shape, shape.outShape);
    if (!plan || t.dtype !== "float32") return null;
    epilogue[key] = { data: valuesOf(backend, t), ...plan };
  }
  return nativeProduct(backend, addon, a, b, transposeA, transposeB, shape, epilogue);
});

/** Why the bf16 product (matmulBf16) cannot run here, or null when it can. */
export function matmulBf16Support(): string | null {
  const addon = nativeAddon() as unknown as MatmulAddon | null;
  return addon ? addon.matmulBf16Support() : nativeUnavailableReason();
}

/** The engine matmulBf16 uses here: "amx", "avx512bf16", or null where matmulBf16Support() says why none. */
export function matmulBf16Engine(): "amx" | "avx512bf16" | null {
  const addon = nativeAddon() as unknown as MatmulAddon | null;
  return addon ? addon.matmulBf16Engine() : null;
}

/** The bf16 product kernel (lib/ops/matmul-bf16.ts): float32 [m, n] from float32 matrices, transposes read in place. */
const matmulBf16Kernel = nativeKernel<MatmulAddon>(BF16_MATMUL_KERNEL, ({ backend, addon, inputs, attrs }) => {
  const { transposeA, transposeB } = attrs as MatMulBf16Attrs;
  const why = addon.matmulBf16Support();
  if (why !== null) throw new Error(`matmulBf16(a, b): not available here: ${why}`);
  const { a, b } = inputs;
  const [m, k] = transposeA ? [a!.shape[1], a!.shape[0]] : a!.shape;
  const n = transposeB ? b!.shape[0] : b!.shape[1];
  const out = backend.buffers.float32(m * n); // every element is written
  const f32 = (name: string) => float32Input(backend, BF16_MATMUL_KERNEL, inputs, name);
  if (out.length > 0) addon.matmulBf16(f32("a"), f32("b"), out, m, n, k, transposeA, transposeB);
  return backend.makeTensorInfo([m, n], "float32", out);
});

export const matmulKernels: KernelConfig[] = [batchMatMulKernel, fusedMatMulKernel, matmulBf16Kernel];
