// Matmul precision of the lab's linear products: "fp32", or opt-in "bf16" mixed precision — both operands rounded to
// bfloat16 (nearest even), products accumulated in fp32 (AMX or AVX512-BF16: lab.matmulBf16), weights, gradients and
// optimizer state kept in fp32 (master weights). The backward products run in bf16 as well (dX = bf16(dY)·bf16(W),
// dW = bf16(dY)ᵀ·bf16(X), lib/ops/matmul-bf16.ts); rounding is treated as identity in the gradient (straight-through).
// Products of fewer than BF16_MIN_ROWS rows (decoding a few tokens) stay fp32: there, rounding the whole weight to
// bf16 on every call costs more than the bf16 product saves. The precision is scoped: a model with
// `precision: "bf16"` runs its forward inside withMatmulPrecision. Reference: Kalamkar et al., "A Study of BFLOAT16
// for Deep Learning Training" (2019); PyTorch autocast (CPU bf16).
import * as tf from "@tensorflow/tfjs";
import { matmulBf16Support } from "../native/kernels/matmul";
import { matmulBf16 } from "../ops/matmul-bf16";

/** Precision of the linear products. */
export type MatmulPrecision = "fp32" | "bf16";

let current: MatmulPrecision = "fp32";

/** The precision linear products use now. */
export function matmulPrecision(): MatmulPrecision {
  return current;
}

/** Runs `fn` with linear products in `precision` (restored afterwards, also on throw). "bf16" throws where unsupported. */
export function withMatmulPrecision<T>(precision: MatmulPrecision, fn: () => T): T {
  if (precision !== "fp32" && precision !== "bf16")
    throw new Error(`withMatmulPrecision(precision): expected "fp32" or "bf16", got ${JSON.stringify(precision)}`);
  if (precision === "bf16") checkBf16("withMatmulPrecision(precision)");
  const previous = current;
  current = precision;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** Throws, naming `where`, unless this machine has a bf16 product (lab.matmulBf16Support()). */
export function checkBf16(where: string): void {
  const why = matmulBf16Support();
  if (why !== null) throw new Error(`${where}: bf16 matmuls are not available here: ${why}`);
}

/**
 * Fewest rows N of x for which a bf16-mode linear product runs in bf16. Measured on an AMD EPYC with AVX512-BF16 (one
 * thread, CPU time, paired with the fp32 product; weights 256×256 to 256×768): bf16 ran at 0.72–0.99× fp32's speed
 * for N = 4 … 12 and at 1.13–1.25× from N = 16, where converting the weight stops dominating.
 */
export const BF16_MIN_ROWS = 16;

/** x [N, in] · w [out, in]ᵀ → [N, out] in the current precision (Linear's and the tied head's product). */
export function linearProduct(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const bf16 = current === "bf16" && x.shape[0] >= BF16_MIN_ROWS;
  return (bf16 ? matmulBf16(x, w, false, true) : tf.matMul(x, w, false, true)) as tf.Tensor2D; // [N, out]
}
