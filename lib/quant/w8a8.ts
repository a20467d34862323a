// W8A8: int8 weights (per output channel) times int8 activations (per token), accumulated in int32, rescaled by
// s_x[m]·s_w[n] to float32 — the SmoothQuant/LLM.int8() deployment GEMM without outlier handling. The int8 product
// runs native/src/quant_int8_gemm.cc (AVX-512 VNNI / AVX-VNNI / scalar) when the addon is built, else JavaScript.
// Reference: Xiao et al. 2023, "SmoothQuant" §2 (per-token × per-channel W8A8); DESIGN.md §3 "INT8/INT4".
import * as tf from "@tensorflow/tfjs";
import type { Linear } from "../nn/linear";
import { PER_CHANNEL } from "./granularity";
import { quantAddon } from "./native";
import { QuantizedTensor, quantize } from "./quantized-tensor";
import { applyLinear } from "./weights";

/** out[m,n] = Σ_k a[m,k]·b[n,k] exactly, in int32 (a [m,k], b [n,k] row-major). Native when built. */
export function int8Matmul(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array {
  const fn = "int8Matmul(a, b, m, n, k)";
  for (const [name, v] of [
    ["m", m],
    ["n", n],
    ["k", k],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${fn}: ${name} must be a non-negative integer, got ${v}`);
  }
  if (!(a instanceof Int8Array) || a.length !== m * k)
    throw new Error(`${fn}: a must be an Int8Array of m·k = ${m * k} values`);
  if (!(b instanceof Int8Array) || b.length !== n * k)
    throw new Error(`${fn}: b must be an Int8Array of n·k = ${n * k} values`);
  const out = new Int32Array(m * n);
  const addon = quantAddon();
  if (addon) addon.int8Gemm(a, b, out, m, n, k);
  else int8MatmulJs(a, b, out, m, n, k);
  return out;
}

/** The JavaScript reference of int8Matmul. */
export function int8MatmulJs(a: Int8Array, b: Int8Array, out: Int32Array, m: number, n: number, k: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[j * k + t];
      out[i * n + j] = s;
    }
  }
}

/** The int8 product path in use: "avx512-vnni", "avx-vnni", "scalar" (native) or "javascript". */
export function int8MatmulKernel(): string {
  return quantAddon()?.int8GemmKernel() ?? "javascript";
}

function checkInt8Weight(fn: string, w: QuantizedTensor): void {
  if (
    w.format !== "int8" ||
    w.zeroPoints ||
    w.shape.length !== 2 ||
    w.layout.groupCols !== w.layout.cols ||
    w.layout.groupRows !== 1
  ) {
    throw new Error(
      `${fn}: w must be a symmetric int8 per-channel QuantizedTensor [out, in], got ${w.format} ${JSON.stringify(w.granularity)} [${w.shape}]`,
    );
  }
}

/** An int8 symmetric per-channel weight [out, in] for w8a8Matmul. */
export function quantizeW8(w: tf.Tensor2D): QuantizedTensor {
  return quantize(w, { format: "int8", granularity: PER_CHANNEL });
}

/**
 * x [M, K] (float32, quantized here per token to int8) times w [N, K] (int8 per channel)ᵀ → [M, N] float32:
 * int32 accumulation, then out[m,n] = acc[m,n]·s_x[m]·s_w[n].
 */
export function w8a8Matmul(x: tf.Tensor2D, w: QuantizedTensor): tf.Tensor2D {
  const fn = "w8a8Matmul(x, w)";
  checkInt8Weight(fn, w);
  const [n, k] = w.shape;
  if (x.rank !== 2 || x.shape[1] !== k) throw new Error(`${fn}: x must have shape [M, ${k}], got [${x.shape}]`);
  const m = x.shape[0];
  const qx = quantize(x, { format: "int8", granularity: PER_CHANNEL });
  const acc = int8Matmul(qx.codes as Int8Array, w.codes as Int8Array, m, n, k);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const sx = qx.scales[i];
    for (let j = 0; j < n; j++) out[i * n + j] = acc[i * n + j] * sx * w.scales[j];
  }
  return tf.tensor2d(out, [m, n]);
}

/** A Linear layer run as W8A8: int8 weight per channel, activations quantized per token at every call. */
export class W8A8Linear {
  readonly weight: QuantizedTensor;
  readonly bias: tf.Tensor1D | null;

  constructor(linear: Linear) {
    this.weight = quantizeW8(linear.weight as tf.Tensor2D);
    this.bias = linear.bias ? (linear.bias.clone() as tf.Tensor1D) : null;
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    const [out, inF] = this.weight.shape;
    return applyLinear("W8A8Linear.apply(x)", x, inF, out, this.bias, (x2) => w8a8Matmul(x2, this.weight));
  }

  dispose(): void {
    this.bias?.dispose();
  }
}
