// Weight-only quantized matmul for decoding: x [M, K] · dequant(W)ᵀ with W [N, K] kept as INT8 / INT4 / FP8 codes and
// block scales, dequantised on the fly inside the product (the tfjs kernel MoelabDequantMatMul: native on the `native`
// backend, native/src/quant_dequant_gemm.cc; a composite dequantise-then-matMul elsewhere). The dequantised weights
// are bit-identical to QuantizedTensor.dequantize(); sums differ from tf.matMul only in order. Optional dynamic
// activation quantisation per token (W8A8 / W4A8: int8 per row; FP8 weights: E4M3 1×128 tiles, DeepSeek-V3 §3.3),
// emulated in float32 as quantize → dequantize of x. Reference: DeepSeek-V3 inference/kernel.py; SmoothQuant §2.
import * as tf from "@tensorflow/tfjs";
import { QUANT_KERNELS, type DequantMatMulAttrs, type KernelQuantWeight } from "../kernel-names";
import { isFp8 } from "./formats";
import { fp8Values } from "./fp8";
import { PER_CHANNEL, TILE_1X128 } from "./granularity";
import { quantAddon } from "./native";
import { QuantizedTensor, quantize } from "./quantized-tensor";

const weights = new WeakMap<QuantizedTensor, KernelQuantWeight>();

/** `w` as the kernel reads it (made once per QuantizedTensor). Errors name `fn` and what w must be. */
export function kernelWeight(fn: string, w: QuantizedTensor): KernelQuantWeight {
  const cached = weights.get(w);
  if (cached) return cached;
  if (!(w instanceof QuantizedTensor) || w.shape.length !== 2)
    throw new Error(`${fn}: w must be a QuantizedTensor [out, in]`);
  if (w.zeroPoints)
    throw new Error(`${fn}: w must be symmetric (no zero points), got an asymmetric ${w.format} tensor`);
  const [n, k] = w.shape;
  if (w.format === "int4" && k % 2 !== 0) throw new Error(`${fn}: int4 weights need an even input dimension, got ${k}`);
  const kw: KernelQuantWeight = {
    format: w.format === "int8" ? 0 : w.format === "int4" ? 1 : w.format === "e4m3" ? 2 : 3,
    codes: w.codes,
    scales: w.scales,
    lut: isFp8(w.format) ? fp8Values(w.format) : null,
    n,
    k,
    groupRows: w.layout.groupRows,
    groupCols: w.layout.groupCols,
  };
  weights.set(w, kw);
  return kw;
}

/** Activation quantisation: "int8" per token (row), "e4m3" per 1×128 tile (per token when K is not a multiple of 128), or none. */
export type ActivationQuant = "int8" | "e4m3" | null;

/** x's values after per-token int8 or 1×128-tile E4M3 quantisation (float32, same shape). */
export function quantizeActivations(x: tf.Tensor2D, mode: Exclude<ActivationQuant, null>): tf.Tensor2D {
  const cfg =
    mode === "int8"
      ? { format: "int8" as const, granularity: PER_CHANNEL }
      : { format: "e4m3" as const, granularity: x.shape[1] % 128 === 0 ? TILE_1X128 : PER_CHANNEL };
  return tf.tensor2d(quantize(x, cfg).dequantize(), x.shape);
}

/**
 * x [M, K] (float32) · dequant(w)ᵀ with w a symmetric INT8 / INT4 / FP8 QuantizedTensor [N, K] → [M, N];
 * `activationQuant` quantises x first (dynamic, per call). Native fused kernel where registered, else composite.
 */
export function dequantMatmul(
  x: tf.Tensor2D,
  w: QuantizedTensor,
  activationQuant: ActivationQuant = null,
): tf.Tensor2D {
  const fn = "dequantMatmul(x, w)";
  const weight = kernelWeight(fn, w);
  if (x.rank !== 2 || x.shape[1] !== weight.k || x.dtype !== "float32") {
    throw new Error(`${fn}: x must be a float32 tensor [M, ${weight.k}], got ${x.dtype} [${x.shape}]`);
  }
  if (activationQuant !== null && activationQuant !== "int8" && activationQuant !== "e4m3") {
    throw new Error(`${fn}: activationQuant must be "int8", "e4m3" or null, got ${JSON.stringify(activationQuant)}`);
  }
  return tf.tidy(() => {
    const xq = activationQuant ? quantizeActivations(x, activationQuant) : x; // [M, K]
    if (tf.getKernel(QUANT_KERNELS.dequantMatMul, tf.getBackend())) {
      const attrs: DequantMatMulAttrs = { weight };
      return tf
        .engine()
        .runKernel(QUANT_KERNELS.dequantMatMul, { x: xq }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D; // [M, N]
    }
    return tf.matMul(xq, tf.tensor2d(w.dequantize(), [weight.n, weight.k]), false, true); // [M, N]
  });
}

/** The fused kernel's SIMD path on this machine ("avx512", "avx2", "scalar"), or "composite" without the addon. */
export function dequantMatmulKernel(): string {
  const addon = quantAddon() as unknown as { dequantGemmKernel?: () => string } | null;
  return addon?.dequantGemmKernel?.() ?? "composite";
}
