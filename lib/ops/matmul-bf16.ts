// The opt-in bf16 product as a differentiable op: op(a)·op(b) with both operands rounded to bfloat16 (nearest even)
// and fp32 accumulation, on the native backend's kernel (AMX or AVX512-BF16; lib/native/kernels/matmul.ts), which
// reads transposed operands in place. Its gradient is BatchMatMul's (tfjs-core gradients/BatchMatMul_grad.ts) with
// every product in bf16 again: rounding is treated as identity (straight-through), as in mixed-precision training
// (Kalamkar et al., "A Study of BFLOAT16 for Deep Learning Training", 2019).
import * as tf from "@tensorflow/tfjs";
import { BF16_MATMUL_KERNEL, type MatMulBf16Attrs } from "../kernel-names";
import { hasFusedKernel } from "./fused";
import { ensureGradient } from "./registry";

function product(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  const attrs: MatMulBf16Attrs = { transposeA, transposeB };
  return tf.engine().runKernel(BF16_MATMUL_KERNEL, { a, b }, attrs) as tf.Tensor2D;
}

const matmulBf16Grad: tf.GradConfig = {
  kernelName: BF16_MATMUL_KERNEL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as MatMulBf16Attrs;
    const g = dy as tf.Tensor;
    if (!transposeA && !transposeB) return { a: () => product(g, b, false, true), b: () => product(a, g, true, false) };
    if (!transposeA) return { a: () => product(g, b, false, false), b: () => product(g, a, true, false) };
    if (!transposeB) return { a: () => product(b, g, false, true), b: () => product(a, g, false, false) };
    return { a: () => product(b, g, true, true), b: () => product(g, a, true, true) };
  },
};

/**
 * op(a)·op(b) in bf16 mixed precision for float32 matrices: op(a) [m, k] is a, or aᵀ when transposeA (tf.matMul's
 * flags); both rounded to bf16, products accumulated in fp32. Differentiable (gradients in bf16 products too). Needs
 * the native backend; throws where lab.matmulBf16Support() says why the CPU cannot.
 */
export function matmulBf16(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.dtype !== "float32" || b.dtype !== "float32") {
    throw new Error(
      `matmulBf16(a, b): expected float32 matrices, got a ${a.dtype}[${a.shape}] and b ${b.dtype}[${b.shape}]`,
    );
  }
  const k = transposeA ? a.shape[0] : a.shape[1];
  const kb = transposeB ? b.shape[1] : b.shape[0];
  if (k !== kb) {
    throw new Error(
      `matmulBf16(a, b): a is [${a.shape}] and b [${b.shape}]; ` +
        `${transposeA ? "aᵀ" : "a"}'s columns must equal ${transposeB ? "bᵀ" : "b"}'s rows`,
    );
  }
  if (!hasFusedKernel(BF16_MATMUL_KERNEL))
    throw new Error(`matmulBf16(a, b): needs the "native" backend (active: "${tf.getBackend()}")`);
  ensureGradient(matmulBf16Grad);
  return product(a, b, transposeA, transposeB);
}
